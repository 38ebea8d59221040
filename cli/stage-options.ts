/**
 * The options every stage takes in a graph file, as JSON Schema fragments. The graph schema
 * (schema/graph.schema.json, `prune-pipe schema`) is generated from this table, so graph files
 * are validated against the same option names the stage factories read.
 */
type Prop = Record<string, unknown>;

export interface StageOptionSpec {
  description: string;
  properties: Record<string, Prop>;
  required?: string[];
}

const int = (description: string, minimum = 1): Prop => ({ type: 'integer', minimum, description });
const str = (description: string): Prop => ({ type: 'string', minLength: 1, description });

export const STAGE_OPTIONS: Record<string, StageOptionSpec> = {
  parse: {
    description: 'reads the input model (format detected from content unless given)',
    properties: {
      from: str('input format: w2v-text, w2v-bin, glove, fifu, fasttext'),
      memory: int('bytes the reader may hold for rows read on demand (fastText: n-gram rows and sums; default 536870912)', 1),
    },
  },
  counts: {
    description: 'attaches counts from a word<TAB>count file to every pass',
    properties: { file: str('path of the counts file') },
    required: ['file'],
  },
  'count-words': {
    description: 'makes counts from a text corpus (whitespace-separated tokens) and attaches them to every pass',
    properties: {
      text: str('path of the text file'),
      output: str('also write the counts as word<TAB>count here'),
      lowercase: { type: 'boolean', description: 'lower-case ASCII letters before counting' },
    },
    required: ['text'],
  },
  rank: {
    description: 'keeps the N most frequent rows (file order or counts)',
    properties: { keep: int('rows to keep'), by: { enum: ['order', 'counts'], description: 'rank by file order or by counts' } },
    required: ['keep'],
  },
  cover: {
    description: 'keeps the N words that best cover the others (facility location, lazy or stochastic greedy)',
    properties: {
      keep: int('rows to keep'),
      candidates: int('candidates: the C most frequent words'),
      sample: int('words sampled beyond the candidates to evaluate coverage on (0 = all)', 0),
      forceKeep: int('most frequent words always kept', 0),
      epsilon: { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'stochastic greedy accuracy (0 = lazy greedy over all candidates)' },
      neighbors: int('candidate neighbours kept per sample word'),
      by: { enum: ['order', 'counts'], description: 'frequency from file order or counts' },
      seed: int('random seed', 0),
      threads: int('worker threads'),
    },
    required: ['keep'],
  },
  kmeans: {
    description: 'learns N - K centroids with mini-batch spherical k-means; the K most frequent words keep their rows',
    properties: {
      keep: int('rows in the table (force-kept words plus centroids)'),
      forceKeep: int('most frequent words that keep their own rows', 0),
      weights: { enum: ['counts', 'rank', 'none'], description: 'frequency weighting of sampling and updates' },
      sample: int('reservoir sample size'),
      batchSize: int('mini-batch size'),
      iterations: int('mini-batch iterations'),
      seed: int('random seed', 0),
      refine: { type: 'boolean', description: 'extra pass: centroids become exact means of their members' },
      cellCentres: int('coarse cells for the assignment during training'),
      threads: int('worker threads'),
    },
    required: ['keep'],
  },
  assign: {
    description: 'maps every row without a target to its nearest kept row by cosine',
    properties: {
      threads: int('worker threads'),
      search: { enum: ['exact', 'approx', 'auto'], description: 'nearest-row search: exact, approx (IVF, HNSW or n-gram index, verified on a sample) or auto (by size; docs/scale.md)' },
      index: { enum: ['ivf', 'hnsw', 'ngram'], description: 'approx: inverted-file index with the exact SIMD kernel (default), usearch HNSW, or kept words sharing n-grams (ngram: subword models; docs/ngram-search.md)' },
      cells: int('approx, ivf: number of k-means cells (default about 2 x sqrt(kept rows))'),
      probes: { type: 'integer', minimum: 1, maximum: 512, description: 'approx, ivf: cells searched per query (default: calibrated)' },
      verifySample: int('approx: rows also searched exactly to verify the index (0 = no check)', 0),
      minAgreement: { type: 'number', minimum: 0, maximum: 1, description: 'approx: the run fails (exit 5) below this agreement with exact search' },
      ef: int('approx: HNSW search breadth'),
      candidates: { type: 'integer', minimum: 1, maximum: 64, description: 'approx: candidate rows per query compared exactly' },
      connectivity: int('approx: HNSW graph degree', 2),
      efConstruction: int('approx: HNSW build breadth'),
      shortlist: { type: 'integer', minimum: 1, maximum: 4096, description: 'approx, ngram: kept words per query compared exactly, those sharing the most n-grams (default: calibrated)' },
    },
  },
  'subword-scan': {
    description: 'counts how often each subword n-gram bucket is used by the vocabulary words (subword models)',
    properties: {
      words: { enum: ['all', 'kept'], description: 'scan every vocabulary word (all) or only the kept words' },
      weights: { enum: ['none', 'counts'], description: 'an n-gram occurrence counts 1 (none) or the word count (counts)' },
    },
  },
  'subword-collapse': {
    description: 'drops or nulls unused subword buckets, keeps the M most useful used ones, decides how pruned words are looked up',
    properties: {
      unused: { enum: ['drop', 'null'], description: 'unused buckets are removed (drop) or share one zero row (null)' },
      keep: int('keep at most this many used buckets', 0),
      score: { enum: ['usage', 'usage-norm'], description: 'bucket score for keep: usage count, or usage x row norm' },
      pruned: { enum: ['drop', 'nearest'], description: 'used buckets beyond keep: removed, or remapped to the nearest kept bucket by cosine' },
      prunedWords: { enum: ['nearest', 'subwords'], description: 'pruned words: the assign stage row (nearest) or rebuilt from their n-grams (subwords)' },
      threads: int('worker threads'),
    },
  },
  serialize: {
    description: 'writes the result atomically',
    properties: {
      output: str("output path, or '-' for standard output"),
      to: str('output format'),
      layout: { enum: ['expanded', 'kept'], description: 'every word (expanded) or the kept rows only' },
      mapping: str('also write word<TAB>kept word<TAB>cosine here'),
      compress: { enum: ['gzip', 'none'], description: 'gzip the output (default: when the name ends in .gz)' },
      quantize: {
        type: 'object',
        description: 'product-quantized output (fifu; to "ftz" is always quantized): docs/quantization.md',
        additionalProperties: false,
        properties: {
          method: { enum: ['pq'], description: 'product quantization' },
          dsub: int('dims per sub-vector (default 2)'),
          subquantizers: int('number of sub-quantizers instead of dsub'),
          qnorm: { type: 'boolean', description: 'quantize unit-length rows, norms apart (default true)' },
          sample: int('rows the quantizer is trained on (default 65536)'),
          iterations: int('k-means steps per sub-quantizer (default 10)'),
          compensate: { type: 'boolean', description: 'ftz: kept words\' input rows absorb their n-gram rows\' errors (default true)' },
          verify: { type: 'boolean', description: 'compare every word with the written file afterwards (default true)' },
        },
      },
    },
    required: ['output', 'to'],
  },
};

/** The JSON Schema of a graph file. */
export function graphSchema(names: string[]): Record<string, unknown> {
  const stageRules = names.map((name) => {
    const spec = STAGE_OPTIONS[name] ?? { description: name, properties: {} };
    return {
      if: { properties: { stage: { const: name } }, required: ['stage'] },
      then: {
        description: spec.description,
        properties: { stage: { const: name }, ...spec.properties },
        required: ['stage', ...(spec.required ?? [])],
        additionalProperties: false,
      },
    };
  });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://prune-pipe.invalid/graph.schema.json',
    title: 'prune-pipe stage graph',
    description: 'An input model and the stages that process it, in order. Run with `prune-pipe run FILE`.',
    type: 'object',
    required: ['input', 'stages'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string' },
      input: { type: 'string', minLength: 1, description: "model file, or '-' for standard input" },
      threads: { type: 'integer', minimum: 1, description: 'worker threads' },
      batch: { type: 'integer', minimum: 1, description: 'rows per batch' },
      seed: { type: 'integer', minimum: 0, description: 'seed for anything random' },
      stages: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['stage'],
          properties: { stage: { enum: names, description: 'stage name' } },
          allOf: stageRules,
        },
      },
    },
  };
}

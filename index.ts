/**
 * prune-pipe library entry point: the engine, the stages, the codecs.
 */
export type { Batch } from './pipeline/batch.js';
export { DEFAULT_BATCH_ROWS, rowOf, withAssignment } from './pipeline/batch.js';
export { createContext, openPass, type RunContext, type RunOptions, type ContextOptions } from './pipeline/context.js';
export { PruneError, UsageError, InputError, OutputError, InterruptedError } from './pipeline/errors.js';
export type { ModelInfo, ModelReader, PassOptions, SubwordIndexer, SubwordRows } from './pipeline/model.js';
export { OutputFile } from './pipeline/output.js';
export { CosineStats, type Report } from './pipeline/report.js';
export { openSource, sourceFromBuffer, type Source } from './pipeline/source.js';
export { pipeline, run, type Stage, type Capability, type Pipeline } from './pipeline/stage.js';
export { collect, drain, fromAsync, type Stream } from './pipeline/stream.js';
export { KeptTable } from './pipeline/tables.js';
export { displayWord, wordBytes, wordFromBytes, wordFromText } from './pipeline/words.js';

export { parseStage, type ParseOptions } from './stages/parse.js';
export { countsStage, readCountsFile, type CountsOptions } from './stages/counts.js';
export { rankStage, type RankOptions } from './stages/rank.js';
export { assignStage, type AssignOptions } from './stages/assign.js';
export { serializeStage, type SerializeOptions, type Layout } from './stages/serialize.js';
export { countWordsStage, countWords, type CountWordsOptions } from './stages/count-words.js';
export { coverStage, type CoverOptions } from './stages/cover/index.js';
export { kmeansStage, type KMeansOptions } from './stages/kmeans/stage.js';
export { subwordScanStage, type SubwordScanOptions } from './stages/subword-scan.js';
export { subwordCollapseStage, type SubwordCollapseOptions } from './stages/subword-collapse.js';
export { openModel, detectFormat, formatNames, getFormat, type FormatCodec } from './stages/formats/index.js';
export { TextWriter } from './stages/formats/text.js';
export { Word2vecBinWriter } from './stages/formats/word2vec-bin.js';
export { nearestRows } from './stages/kernels/nearest.js';
export { normalizeRows } from './stages/kernels/normalize.js';

export { runGraph, type GraphSpec } from './cli/graph.js';

// Lookups on any model (pruned or not) and comparing a pruned model with its original.
export {
  openLookup,
  lookupFromSource,
  openLookupReader,
  Lookup,
  readMappingFile,
  SOURCE_NONE,
  SOURCE_VOCAB,
  SOURCE_MAPPED,
  SOURCE_SUBWORDS,
  type LookupOptions,
  type LookupVector,
  type LookupBatch,
  type Neighbour,
  type SimilarResult,
  type PrunedInfo,
  type VectorSource,
  type MappedWord,
} from './stages/lookup/index.js';
export { evaluate, compare, type EvalOptions, type EvalResult, type CompareOptions } from './stages/eval/eval.js';
export { readPairsFile, type WordPair } from './stages/eval/pairs.js';
export { spearman, pearson, fractionalRanks } from './stages/eval/spearman.js';

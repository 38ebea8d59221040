/**
 * Writing a fastText model whose input matrix is product-quantized (a `.ftz` as fastText 0.9.2
 * loads it): header (format version 12), dictionary (words with their counts, and the pruned index
 * of the kept n-gram buckets when pruned), the quantized-input flag 1, the QuantMatrix, the
 * quantized-output flag 0 and a dense output matrix. The reader of the same parts is reader.ts;
 * each part's bytes come from its own module (header.ts, dictionary.ts, quantized.ts, dense.ts).
 *
 * fastText refuses a pruned dictionary unless the input matrix is quantized, so a pruned model is
 * always written this way. The input matrix holds the word rows first, then the n-gram rows: the
 * pruned index maps a bucket (hash mod args.bucket) to an n-gram row; without it, n-gram row =
 * bucket and the matrix has words + args.bucket rows.
 */
import type { OutputFile } from '../../../pipeline/output.js';
import { encodeDenseHead } from './dense.js';
import { encodeDictionary, type DictionaryInput } from './dictionary.js';
import { encodeHeader, type FastTextArgs } from './header.js';
import { quantMatrixParts, type QuantMatrixInput } from './quantized.js';

export interface FtzInput {
  args: FastTextArgs;
  dictionary: DictionaryInput;
  /** Word rows, then n-gram rows. */
  input: QuantMatrixInput;
  /** Dense output matrix: `rows` x args.dim floats, given in blocks of whole rows. */
  output: { rows: number; blocks: AsyncIterable<Float32Array> | Iterable<Float32Array> };
}

/** Checks what fastText's loader relies on; throws an Error (a bug of the caller) otherwise. */
function check(f: FtzInput): void {
  const { args, dictionary: d, input } = f;
  const words = d.words.length;
  if (input.pq.dim !== args.dim) throw new Error(`the quantizer has dimension ${input.pq.dim}, the arguments ${args.dim}`);
  if (input.rows < words) throw new Error(`${input.rows} input rows for ${words} words`);
  const table = input.rows - words;
  if (d.prune) {
    const { buckets, rows } = d.prune;
    for (let i = 0; i < buckets.length; i++) {
      if (!(buckets[i]! >= 0 && buckets[i]! < args.bucket)) throw new Error(`pruned index pair ${i}: bucket ${buckets[i]} outside 0..${args.bucket}`);
      if (!(rows[i]! >= 0 && rows[i]! < table)) throw new Error(`pruned index pair ${i}: row ${rows[i]} outside the ${table} n-gram rows`);
    }
  } else if (table !== args.bucket) {
    throw new Error(`an unpruned model needs ${words} + ${args.bucket} input rows, got ${input.rows}`);
  }
}

/** Writes the whole model to `out` (the caller opens, then commits or aborts it); returns its size. */
export async function writeFtz(out: OutputFile, f: FtzInput): Promise<{ bytes: number }> {
  check(f);
  const dim = f.args.dim;
  // the parts one after the other: the codes are written from the caller's array, not copied
  const parts = [encodeHeader(f.args), encodeDictionary(f.dictionary), Buffer.of(1), ...quantMatrixParts(f.input), Buffer.of(0), encodeDenseHead(f.output.rows, dim)];
  let headBytes = 0;
  for (const p of parts) {
    headBytes += p.length;
    await out.put(p);
  }
  let floats = 0;
  for await (const block of f.output.blocks) {
    if (block.length % dim !== 0) throw new Error(`an output block of ${block.length} values is not whole rows of ${dim}`);
    floats += block.length;
    if (floats > f.output.rows * dim) throw new Error(`more output rows than the ${f.output.rows} announced`);
    await out.put(new Uint8Array(block.buffer, block.byteOffset, block.length * 4));
  }
  if (floats !== f.output.rows * dim) throw new Error(`${floats / dim} output rows written, ${f.output.rows} announced`);
  await out.flush();
  return { bytes: headBytes + floats * 4 };
}

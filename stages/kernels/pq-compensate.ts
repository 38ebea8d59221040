/**
 * Compensated word rows of a quantized fastText model (the .ftz writer, serialize-quantized.ts):
 * word r of a job (code row row0 + r) gets w = (1 + n) v - (sum of the n decoded code rows
 * list[starts[r] .. starts[r + 1])), summed in float64 in list order, and w is encoded in place of
 * its codes (and its norm written). Runs on the calling thread or on a PQ worker (pq-worker.ts):
 * the same function, so the same bits.
 * Cost: per word, n decodings of dim values and one encoding; memory rows x dim x 4 bytes.
 */
import { addDecoded } from './pq-decode.js';
import { encodeRows, type SubspaceSearch } from './pq-encode.js';
import type { PqCodebook } from './pq-train.js';

/** A block of words to compensate (sent to workers as it is). */
export interface CompensateJob {
  row0: number;
  rows: number;
  starts: Int32Array;
  list: Int32Array;
  /** rows x dim: the words' target vectors. */
  v: Float32Array;
}

/** The quantized rows a job reads and rewrites: codes, norms, and the norm levels and their codes. */
export interface CompensateTarget {
  codes: Uint8Array;
  norms?: Float32Array;
  levels?: Float32Array;
  normCodes?: Uint8Array;
}

/** Compensates the job's words in `t` (`index`: codebookIndex(cb)). */
export function compensateRows(cb: PqCodebook, index: SubspaceSearch[], t: CompensateTarget, job: CompensateJob): void {
  const { codes, norms, levels, normCodes } = t;
  const { row0, rows, starts, list, v } = job;
  const dim = cb.dim;
  const acc = new Float64Array(dim);
  const w = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    const n = starts[r + 1]! - starts[r]!;
    for (let k = starts[r]!; k < starts[r + 1]!; k++) {
      const q = list[k]!;
      addDecoded(cb, codes, q, levels ? levels[normCodes![q]!]! : 1, acc);
    }
    for (let d = 0; d < dim; d++) w[r * dim + d] = (1 + n) * v[r * dim + d]! - acc[d]!;
  }
  encodeRows(cb, w, rows, codes, row0, norms, row0, index);
}

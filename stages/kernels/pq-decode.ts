/**
 * Decoding product-quantized rows: row r = alpha_r x (the centroids its codes pick, concatenated),
 * each value rounded to float32 as fastText's QuantMatrix and finalfusion's QuantizedArray compute
 * it (alpha_r = 1 without norms), so a decoded row is bit for bit what either reader gives.
 * Cost: rows x dim.
 */
import type { PqCodebook } from './pq-train.js';

/** Rows [0, rows) of `codes` starting at code row `codeRow`, into out[outOffset ..]. */
export function decodeRows(
  cb: PqCodebook,
  codes: Uint8Array,
  codeRow: number,
  rows: number,
  out: Float32Array,
  outOffset = 0,
  alphas?: ArrayLike<number>,
): Float32Array {
  const { dim, nsubq, dsub, lastdsub, k, centroids } = cb;
  for (let r = 0; r < rows; r++) {
    const a = alphas ? Math.fround(alphas[r]!) : 1;
    const cOff = (codeRow + r) * nsubq;
    const o = outOffset + r * dim;
    for (let m = 0; m < nsubq; m++) {
      const d = m === nsubq - 1 ? lastdsub : dsub;
      const c = m * k * dsub + codes[cOff + m]! * d;
      const p = o + m * dsub;
      if (a === 1) for (let j = 0; j < d; j++) out[p + j] = centroids[c + j]!;
      else for (let j = 0; j < d; j++) out[p + j] = a * centroids[c + j]!;
    }
  }
  return out;
}

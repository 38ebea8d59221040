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

/**
 * Adds decoded row `row` of `codes` (times alpha, each value rounded to float32 as decodeRows
 * gives it) to the float64 accumulator acc[0 .. dim). Cost: dim.
 */
export function addDecoded(cb: PqCodebook, codes: Uint8Array, row: number, alpha: number, acc: Float64Array): void {
  const { nsubq, dsub, lastdsub, k, centroids } = cb;
  const a = Math.fround(alpha);
  const cOff = row * nsubq;
  const full = lastdsub === dsub ? nsubq : nsubq - 1;
  if (dsub === 2) {
    for (let m = 0, o = 0; m < full; m++, o += 2) {
      const c = (m * k + codes[cOff + m]!) * 2;
      acc[o]! += Math.fround(a * centroids[c]!);
      acc[o + 1]! += Math.fround(a * centroids[c + 1]!);
    }
  } else {
    for (let m = 0; m < full; m++) {
      const c = (m * k + codes[cOff + m]!) * dsub;
      for (let j = 0; j < dsub; j++) acc[m * dsub + j]! += Math.fround(a * centroids[c + j]!);
    }
  }
  if (full < nsubq) {
    const m = nsubq - 1;
    const c = m * k * dsub + codes[cOff + m]! * lastdsub;
    for (let j = 0; j < lastdsub; j++) acc[m * dsub + j]! += Math.fround(a * centroids[c + j]!);
  }
}

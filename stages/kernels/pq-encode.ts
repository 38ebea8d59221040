/**
 * Encoding rows with a trained product quantizer: each sub-vector becomes the index of its nearest
 * centroid (pq-nearest-sorted.ts). With `norms`, each row is scaled to unit length first and its
 * L2 norm (float32) is written to norms[r] (the caller quantizes or stores the norms).
 * Cost: rows x nsubq x (log2 k + visited centroids x dsub); 2 x rows x dim more with norms.
 */
import { nearestCentroidsSorted, sortCentroids, type SortedCentroids } from './pq-nearest-sorted.js';
import type { PqCodebook } from './pq-train.js';

/** Rows normalised per chunk (bounds the temporary copy). */
const CHUNK = 4096;

/** Each sub-quantizer's centroids sorted once for many encodings. */
export function sortedCodebook(cb: PqCodebook): SortedCentroids[] {
  const out: SortedCentroids[] = [];
  for (let m = 0; m < cb.nsubq; m++) {
    const d = m === cb.nsubq - 1 ? cb.lastdsub : cb.dsub;
    out.push(sortCentroids(cb.centroids, m * cb.k * cb.dsub, cb.k, d));
  }
  return out;
}

/**
 * Codes of `rows` rows of `block` (row-major, cb.dim wide) into codes[(codeRow + r) x nsubq + m].
 * Returns the sum of squared errors of the (unit, with norms) rows.
 */
export function encodeRows(
  cb: PqCodebook,
  block: Float32Array,
  rows: number,
  codes: Uint8Array,
  codeRow: number,
  norms?: Float32Array,
  normRow = 0,
  sorted: SortedCentroids[] = sortedCodebook(cb),
): number {
  const { dim, nsubq, dsub } = cb;
  let err = 0;
  if (!norms) {
    for (let m = 0; m < nsubq; m++) err += nearestCentroidsSorted(block, m * dsub, dim, rows, sorted[m]!, codes, codeRow * nsubq + m, nsubq);
    return err;
  }
  const unit = new Float32Array(Math.min(rows, CHUNK) * dim);
  for (let s = 0; s < rows; s += CHUNK) {
    const n = Math.min(CHUNK, rows - s);
    for (let r = 0; r < n; r++) {
      const o = (s + r) * dim;
      let q = 0;
      for (let j = 0; j < dim; j++) q += block[o + j]! * block[o + j]!;
      const norm = Math.fround(Math.sqrt(q));
      norms[normRow + s + r] = norm;
      const inv = norm > 0 ? norm : 1;
      for (let j = 0; j < dim; j++) unit[r * dim + j] = block[o + j]! / inv;
    }
    for (let m = 0; m < nsubq; m++) err += nearestCentroidsSorted(unit, m * dsub, dim, n, sorted[m]!, codes, (codeRow + s) * nsubq + m, nsubq);
  }
  return err;
}

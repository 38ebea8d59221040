/**
 * Encoding rows with a trained product quantizer: each sub-vector becomes the index of its nearest
 * centroid (pq-nearest-grid.ts for 2-dim sub-vectors, pq-nearest-sorted.ts otherwise: both give
 * pq-nearest.ts's answer). With `norms`, each row is scaled to unit length first and its L2 norm
 * (float32) is written to norms[r] (the caller quantizes or stores the norms).
 *
 * Rows are taken CHUNK at a time and copied sub-space by sub-space (a chunk's sub-vectors of one
 * sub-space are then contiguous, and one sub-quantizer's search structure serves them all while it
 * is in cache).
 * Cost: rows x nsubq x (a few centroids x dsub) (2-dim) or x (log2 k + visited centroids x dsub);
 * 2 x rows x dim more with norms; codebookIndex: nsubq x 64^2 cells x ~30 steps.
 * Memory: CHUNK x dim x 4 bytes (4.9 MB at 300 dims) and ~100 KB per sub-quantizer.
 */
import { buildCentroidGrid, nearestCentroidsGrid, type CentroidGrid } from './pq-nearest-grid.js';
import { nearestCentroidsSorted, sortCentroids, type SortedCentroids } from './pq-nearest-sorted.js';
import type { PqCodebook } from './pq-train.js';

/** Rows encoded per chunk. */
const CHUNK = 4096;
/** Grid cells per axis of the 2-dim search (pq-nearest-grid.ts): about 4-7 candidates per query. */
const ENCODE_GRID = 64;

/** One sub-quantizer's search structure. */
export type SubspaceSearch = SortedCentroids | CentroidGrid;

/** Each sub-quantizer's search structure, built once for many encodings. */
export function codebookIndex(cb: PqCodebook): SubspaceSearch[] {
  const out: SubspaceSearch[] = [];
  for (let m = 0; m < cb.nsubq; m++) {
    const d = m === cb.nsubq - 1 ? cb.lastdsub : cb.dsub;
    const o = m * cb.k * cb.dsub;
    out.push(d === 2 ? buildCentroidGrid(cb.centroids, o, cb.k, ENCODE_GRID) : sortCentroids(cb.centroids, o, cb.k, d));
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
  index: SubspaceSearch[] = codebookIndex(cb),
): number {
  const { dim, nsubq, dsub } = cb;
  let err = 0;
  // sub-space m of the chunk's n rows at t[m * n * dsub ..], n x d values
  const t = new Float32Array(Math.min(rows, CHUNK) * dim);
  for (let s = 0; s < rows; s += CHUNK) {
    const n = Math.min(CHUNK, rows - s);
    for (let r = 0; r < n; r++) {
      const o = (s + r) * dim;
      let inv = 1;
      if (norms) {
        let q = 0;
        for (let j = 0; j < dim; j++) q += block[o + j]! * block[o + j]!;
        const norm = Math.fround(Math.sqrt(q));
        norms[normRow + s + r] = norm;
        inv = norm > 0 ? norm : 1;
      }
      for (let m = 0; m < nsubq; m++) {
        const d = m === nsubq - 1 ? dim - m * dsub : dsub;
        const to = m * n * dsub + r * d;
        const from = o + m * dsub;
        if (norms) for (let j = 0; j < d; j++) t[to + j] = block[from + j]! / inv;
        else for (let j = 0; j < d; j++) t[to + j] = block[from + j]!;
      }
    }
    for (let m = 0; m < nsubq; m++) {
      const d = m === nsubq - 1 ? dim - m * dsub : dsub;
      const sm = index[m]!;
      const at = m * n * dsub;
      const co = (codeRow + s) * nsubq + m;
      err += 'cand' in sm ? nearestCentroidsGrid(t, at, 2, n, sm, codes, co, nsubq) : nearestCentroidsSorted(t, at, d, n, sm, codes, co, nsubq);
    }
  }
  return err;
}

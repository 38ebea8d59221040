/**
 * The kept table: N rows of `dim` float32 (kept word vectors, centroids or representatives), each
 * with a label. Stored in SharedArrayBuffers so worker threads read it without copies.
 * Memory: N x dim x 4 bytes plus labels (the assignment stage keeps one unit-length copy).
 */
export class KeptTable {
  size = 0;
  readonly labels: string[] = [];
  /** Rows as given (original vectors or centroids). */
  readonly vectors: Float32Array;
  /** L2 norms of `vectors` (0 stays 0). */
  readonly norms: Float32Array;
  /** Input row index of each kept row (-1 for rows that are not input words, e.g. centroids). */
  readonly sourceRow: Int32Array;
  /** Counts of the kept words, when known. */
  readonly counts: Float64Array;
  /** Set once every row is in. */
  complete = false;

  constructor(
    readonly dim: number,
    readonly capacity: number,
  ) {
    this.vectors = new Float32Array(new SharedArrayBuffer(Math.max(1, capacity * dim) * 4));
    this.norms = new Float32Array(new SharedArrayBuffer(Math.max(1, capacity) * 4));
    this.sourceRow = new Int32Array(Math.max(1, capacity)).fill(-1);
    this.counts = new Float64Array(Math.max(1, capacity));
  }

  /** Appends a row; returns its index. */
  add(label: string, vec: ArrayLike<number>, sourceRow = -1, count = 0): number {
    if (this.size >= this.capacity) throw new Error(`kept table full (${this.capacity})`);
    const i = this.size++;
    this.labels.push(label);
    this.vectors.set(vec as ArrayLike<number>, i * this.dim);
    this.sourceRow[i] = sourceRow;
    this.counts[i] = count;
    return i;
  }

  /** Overwrites row i (used by stages that fill slots out of order). */
  set(i: number, label: string, vec: ArrayLike<number>, sourceRow = -1, count = 0): void {
    this.labels[i] = label;
    this.vectors.set(vec, i * this.dim);
    this.sourceRow[i] = sourceRow;
    this.counts[i] = count;
  }

  row(i: number): Float32Array {
    return this.vectors.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** Computes norms and freezes the table. */
  finish(): void {
    const d = this.dim;
    const v = this.vectors;
    for (let i = 0; i < this.size; i++) {
      let s = 0;
      for (let k = i * d, e = k + d; k < e; k++) s += v[k]! * v[k]!;
      this.norms[i] = Math.sqrt(s);
    }
    this.complete = true;
  }

  /** Bytes this table holds. */
  get bytes(): number {
    return this.capacity * this.dim * 4 + this.capacity * 20;
  }
}

/**
 * Weighted reservoir sample of rows in one pass: priority sampling (Duffield, Lund and Thorup
 * 2007). Each row offered gets the priority weight / u, with u uniform in (0, 1], and the S rows
 * with the highest priorities are kept; with equal weights that is a uniform sample of S rows.
 * Every kept row carries the estimate weight max(weight, tau), where tau is the highest priority
 * that did not make it into the sample (0 when every row fits): a sum of estimate weights over the
 * sample is an unbiased estimate of the same sum over all rows, so training on the sample with
 * these weights targets the weighted objective over the whole vocabulary. Rows heavier than tau
 * are always in the sample.
 * Rows are stored as given (the trainer normalises them in place) with their original norm.
 * Memory: S x (4 dim + 4) bytes plus S words
 * and heap entries. Cost: O(log S) per row that enters the sample, O(1) for the others.
 */
import { Heap } from '../heap.js';

interface Entry {
  priority: number;
  row: number;
  slot: number;
  weight: number;
}

/** Lowest priority first; among equal priorities the later row leaves first. */
function lowFirst(a: Entry, b: Entry): number {
  if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
  return b.row - a.row;
}

export interface SampleRows {
  /** Rows in the sample. */
  n: number;
  dim: number;
  /** Input row index of each sampled row, ascending. */
  rows: Int32Array;
  words: string[];
  /** n x dim rows as offered. */
  vectors: Float32Array;
  /** Original L2 norm of each row. */
  norms: Float32Array;
  /** The row's own weight. */
  weights: Float64Array;
  /** Estimate weights max(weight, tau) for training. */
  estimates: Float64Array;
  /** Rows offered in all. */
  offered: number;
  /** The threshold priority (0: every offered row is in the sample). */
  tau: number;
}

export class PrioritySample {
  private readonly heap = new Heap<Entry>(lowFirst);
  private readonly vectors: Float32Array;
  private readonly norms: Float32Array;
  private readonly words: string[];
  private tau = 0;
  private free = 0;
  offered = 0;

  constructor(
    readonly capacity: number,
    readonly dim: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`sample capacity must be a positive integer, got ${capacity}`);
    this.vectors = new Float32Array(capacity * dim);
    this.norms = new Float32Array(capacity);
    this.words = new Array<string>(capacity);
  }

  /**
   * Offers row `row` (its vector at `vec[offset, offset + dim)`) with `weight` >= 0 and `u` uniform
   * in (0, 1] (drawn by the caller, one per row, so the sample depends on the seed only).
   */
  offer(row: number, word: string, vec: Float32Array, offset: number, weight: number, u: number): void {
    this.offered++;
    const priority = weight > 0 ? weight / u : 0;
    let slot: number;
    const e: Entry = { priority, row, slot: -1, weight };
    if (this.heap.size < this.capacity) {
      slot = this.free++;
      e.slot = slot;
      this.heap.push(e);
    } else {
      const low = this.heap.peek()!;
      if (lowFirst(e, low) <= 0) {
        if (priority > this.tau) this.tau = priority;
        return;
      }
      const out = this.heap.replace(e)!;
      if (out.priority > this.tau) this.tau = out.priority;
      slot = out.slot;
      e.slot = slot;
    }
    const d = this.dim;
    let s = 0;
    for (let k = 0; k < d; k++) s += vec[offset + k]! * vec[offset + k]!;
    this.vectors.set(vec.subarray(offset, offset + d), slot * d);
    this.norms[slot] = Math.sqrt(s);
    this.words[slot] = word;
  }

  /**
   * The sample in input row order. The rows are put in order in place (the sample's memory is not
   * doubled); the sampler must not be used afterwards.
   */
  finish(): SampleRows {
    const entries = this.heap.toArray().sort((a, b) => a.row - b.row);
    this.heap.clear();
    const n = entries.length;
    const d = this.dim;
    // Row i of the result is slot entries[i].slot: permute vectors, norms and words in place by
    // following cycles, one spare row.
    const from = Int32Array.from(entries, (e) => e.slot);
    const done = new Uint8Array(n);
    const spare = new Float32Array(d);
    for (let i = 0; i < n; i++) {
      if (done[i] || from[i] === i) {
        done[i] = 1;
        continue;
      }
      spare.set(this.vectors.subarray(i * d, (i + 1) * d));
      const norm = this.norms[i]!;
      const word = this.words[i]!;
      let j = i;
      for (;;) {
        done[j] = 1;
        const f = from[j]!;
        if (f === i) {
          this.vectors.set(spare, j * d);
          this.norms[j] = norm;
          this.words[j] = word;
          break;
        }
        this.vectors.copyWithin(j * d, f * d, (f + 1) * d);
        this.norms[j] = this.norms[f]!;
        this.words[j] = this.words[f]!;
        j = f;
      }
    }
    const out: SampleRows = {
      n,
      dim: d,
      rows: Int32Array.from(entries, (e) => e.row),
      words: this.words.slice(0, n),
      vectors: this.vectors.subarray(0, n * d),
      norms: this.norms.subarray(0, n),
      weights: Float64Array.from(entries, (e) => e.weight),
      estimates: Float64Array.from(entries, (e) => Math.max(e.weight, this.tau)),
      offered: this.offered,
      tau: this.tau,
    };
    return out;
  }
}

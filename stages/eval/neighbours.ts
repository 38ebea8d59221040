/**
 * Nearest-neighbour overlap between two versions of the same words, computed while the words
 * stream by in frequency order (most frequent first).
 *
 * `sample` query words are drawn (seeded) from the first `sampleFrom` words; for each, its k
 * nearest other words by cosine are found among the first `pool` words, on each side; the
 * overlap of a query is |common| / k. The first `sampleFrom` rows are held until the sample is
 * drawn; later rows are searched a batch at a time and forgotten.
 * Memory: 2 x sampleFrom x dim floats, plus 2 x sample x (dim + k) numbers.
 * Cost: 4 x sample x pool x dim flops.
 * Ties (equal cosines: in a pruned model, words mapped to the same row) go to the earlier word.
 */
import { topKRows } from '../kernels/topk.js';

export interface OverlapOptions {
  sample: number;
  sampleFrom: number;
  /** Words searched for neighbours (Infinity: every word). */
  pool: number;
  k: number;
  seed: number;
}

export interface OverlapResult {
  k: number;
  /** Query words. */
  sample: number;
  /** They were drawn from this many most frequent words. */
  sample_from: number;
  /** Neighbours were searched among this many most frequent words. */
  pool: number;
  /** Mean overlap (1 = every query keeps all its k neighbours). */
  overlap: number;
  min: number;
  /** distribution[j]: query words sharing j of their k neighbours. */
  distribution: number[];
}

/** A best-first neighbour list per query, merged batch by batch. */
class TopLists {
  readonly index: Int32Array;
  readonly score: Float64Array;
  constructor(
    readonly queries: number,
    readonly k: number,
  ) {
    this.index = new Int32Array(queries * k).fill(-1);
    this.score = new Float64Array(queries * k).fill(-Infinity);
  }
  /** Inserts row `t` with score `s` into query q's list (after equal scores). */
  put(q: number, t: number, s: number): void {
    const o = q * this.k;
    const k = this.k;
    if (s <= this.score[o + k - 1]!) return;
    let j = k - 1;
    while (j > 0 && this.score[o + j - 1]! < s) {
      this.score[o + j] = this.score[o + j - 1]!;
      this.index[o + j] = this.index[o + j - 1]!;
      j--;
    }
    this.score[o + j] = s;
    this.index[o + j] = t;
  }
}

export class NeighbourOverlap {
  private readonly bufA: Float32Array;
  private readonly bufB: Float32Array;
  private seen = 0;
  private picks?: number[];
  private qA?: Float32Array;
  private qB?: Float32Array;
  private listsA?: TopLists;
  private listsB?: TopLists;
  private readonly sampleFrom: number;
  private readonly pool: number;

  constructor(
    readonly dim: number,
    private readonly o: OverlapOptions,
  ) {
    this.sampleFrom = Math.max(1, o.sampleFrom);
    this.pool = Math.max(this.sampleFrom, o.pool);
    this.bufA = new Float32Array(this.sampleFrom * dim);
    this.bufB = new Float32Array(this.sampleFrom * dim);
    this.pendA = new Float32Array(PENDING * dim);
    this.pendB = new Float32Array(PENDING * dim);
  }

  /** Whether more rows are wanted. */
  get wants(): boolean {
    return this.seen < this.pool;
  }

  /** The next word's two vectors (any length; copied unit-length). */
  add(a: Float32Array, b: Float32Array): void {
    if (this.seen >= this.pool) return;
    const dim = this.dim;
    const i = this.seen++;
    if (i < this.sampleFrom) {
      unitInto(a, this.bufA, i * dim, dim);
      unitInto(b, this.bufB, i * dim, dim);
      if (this.seen === this.sampleFrom) this.draw();
      return;
    }
    this.pending.push(i);
    unitInto(a, this.pendA, (this.pending.length - 1) * dim, dim);
    unitInto(b, this.pendB, (this.pending.length - 1) * dim, dim);
    if (this.pending.length === PENDING) this.flush();
  }

  private pending: number[] = [];
  private readonly pendA: Float32Array;
  private readonly pendB: Float32Array;

  /** Draws the sample from the held rows and searches them. */
  private draw(): void {
    const n = Math.min(this.seen, this.sampleFrom);
    const dim = this.dim;
    this.picks = samplePool(n, Math.min(this.o.sample, n), this.o.seed);
    const s = this.picks.length;
    this.qA = new Float32Array(s * dim);
    this.qB = new Float32Array(s * dim);
    this.picks.forEach((p, j) => {
      this.qA!.set(this.bufA.subarray(p * dim, (p + 1) * dim), j * dim);
      this.qB!.set(this.bufB.subarray(p * dim, (p + 1) * dim), j * dim);
    });
    const k = Math.min(this.o.k, Math.max(1, this.pool - 1));
    this.listsA = new TopLists(s, k);
    this.listsB = new TopLists(s, k);
    this.search(this.bufA, this.bufB, n, 0);
  }

  private flush(): void {
    if (!this.pending.length) return;
    this.search(this.pendA, this.pendB, this.pending.length, this.pending[0]!);
    this.pending = [];
  }

  /** Searches rows [first, first + n) (held in a, b) for every query, excluding the query itself. */
  private search(a: Float32Array, b: Float32Array, n: number, first: number): void {
    const s = this.picks!.length;
    const k = this.listsA!.k;
    const kb = Math.min(k + 1, n);
    const idx = new Int32Array(s * kb);
    const score = new Float32Array(s * kb);
    for (const [q, table, lists] of [
      [this.qA!, a, this.listsA!],
      [this.qB!, b, this.listsB!],
    ] as const) {
      topKRows(q, s, table, n, this.dim, kb, idx, score);
      for (let i = 0; i < s; i++) {
        const self = this.picks![i]!;
        for (let j = 0; j < kb; j++) {
          const t = idx[i * kb + j]!;
          if (t < 0) break;
          if (first + t !== self) lists.put(i, first + t, score[i * kb + j]!);
        }
      }
    }
  }

  finish(): OverlapResult | undefined {
    if (!this.picks) {
      if (this.seen < 2) return undefined;
      this.draw();
    }
    this.flush();
    const s = this.picks!.length;
    const k = this.listsA!.k;
    const A = this.listsA!.index;
    const B = this.listsB!.index;
    const distribution = new Array<number>(k + 1).fill(0);
    let sum = 0;
    let min = 1;
    for (let i = 0; i < s; i++) {
      const set = new Set(A.subarray(i * k, (i + 1) * k));
      let both = 0;
      for (let j = 0; j < k; j++) if (B[i * k + j]! >= 0 && set.has(B[i * k + j]!)) both++;
      distribution[both]!++;
      sum += both / k;
      min = Math.min(min, both / k);
    }
    return {
      k,
      sample: s,
      sample_from: Math.min(this.seen, this.sampleFrom),
      pool: this.seen,
      overlap: Math.round((sum / s) * 1e6) / 1e6,
      min: Math.round(min * 1e6) / 1e6,
      distribution,
    };
  }
}

/** Rows searched per call once the sample is drawn. */
const PENDING = 2048;

/** `n` distinct indices below `pool`, sorted, drawn with a seeded generator (all when n >= pool). */
export function samplePool(pool: number, n: number, seed: number): number[] {
  if (n >= pool) return Array.from({ length: pool }, (_, i) => i);
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Partial Fisher-Yates over the index range.
  const a = Int32Array.from({ length: pool }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rnd() * (pool - i));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return Array.from(a.subarray(0, n)).sort((x, y) => x - y);
}

/** out[o ..] = v / |v| (zero vectors stay zero). */
function unitInto(v: Float32Array, out: Float32Array, o: number, dim: number): void {
  let s = 0;
  for (let k = 0; k < dim; k++) s += v[k]! * v[k]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let k = 0; k < dim; k++) out[o + k] = v[k]! * inv;
}

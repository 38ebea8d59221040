/**
 * The n-gram candidate index of a subword model: which kept rows share an n-gram-table row
 * ("bucket") with a query word, ranked by a cheap estimate of their cosine, the best `k` of them
 * then compared exactly (the SIMD rerank kernel, or the TypeScript loop; every score written is an
 * exact cosine).
 *
 * Why it works: a fastText word vector is (word row + sum of its n-gram rows) / (1 + n). Two words
 * sharing buckets share terms of their sums, so a pruned word's nearest kept word very often shares
 * buckets with it. With rows treated as uncorrelated, the dot product of the two unnormalised sums
 * is about the sum over shared buckets of |bucket row|^2; the shortlist ranks a kept row c by
 *   sum over the query's buckets b that c uses of weight(b), times scale(c),
 * weight(b) = |row b|^2 (1 when the rows cannot be read) and scale(c) = 1 / sqrt(|v_c| (1 + n_c))
 * (|v_c| the kept vector's norm, n_c its n-gram rows: |v_c| (1 + n_c) is the norm of its sum). The
 * square root (instead of the norm itself) was chosen by measurement: docs/ngram-search.md.
 *
 * Long posting lists: a bucket used by more than `maxPostings` kept words (a common n-gram) is not
 * walked: on the 2M-word model those lists are three quarters of the postings a query touches but
 * change few shortlists (docs/ngram-search.md has the measurements, and those of adding their
 * weights back to the best candidates afterwards, which cost more than it gained). A query whose
 * buckets are all long walks them all.
 *
 * Layout: an inverted index bucket -> kept rows (offsets over every bucket, postings ascending
 * within a bucket; a kept word that uses a bucket twice is listed once), in SharedArrayBuffers so
 * the search workers read it without copies. Per thread: a stamp, an accumulator and a candidate
 * list of kept size, and a heap of k entries.
 * Memory: 4 x (buckets + 1) + 4 x postings + 4 x buckets + 4 x kept bytes shared, 16 x kept per
 * thread. Cost per query: the postings of its short buckets (one add each) + (candidates x log k)
 * for the shortlist + 2 x k x dim flops for the exact comparison.
 * Determinism: a query's shortlist is a function of its own buckets only (ties in the estimate go to
 * the lower row; the shortlist is compared in ascending row order, exact ties to the lower row), so
 * answers do not depend on batching or on the thread that computes them.
 */
/** The rerank kernel takes at most this many candidates per query per call (SLOT_CANDIDATES). */
export const NGRAM_RERANK_WIDTH = 64;
/** Largest shortlist (`k`) accepted. */
export const NGRAM_MAX_SHORTLIST = 4096;
/** Posting lists longer than this are not walked (see above) by default. */
export const NGRAM_MAX_POSTINGS = 512;

/** The index, as plain data (sent to workers as is: its arrays are shared). */
export interface NgramSetup {
  /** Kept rows. */
  rows: number;
  /** Rows of the model's n-gram table. */
  buckets: number;
  /** buckets + 1 offsets into `postings`. */
  offsets: Int32Array;
  /** Kept rows by bucket. */
  postings: Int32Array;
  /** Posting lists longer than this are not walked. */
  maxPostings: number;
  /** Per bucket: the weight of sharing it (|row|^2, or 1). */
  weight: Float32Array;
  /** Per kept row: 1 / sqrt(norm x (1 + n-gram rows)); 0 for a zero row. */
  scale: Float32Array;
  /** Whether `weight` holds row norms (false: every bucket weighs 1). */
  weighted: boolean;
}

function shared<T extends Int32Array | Float32Array>(C: new (b: SharedArrayBuffer) => T, n: number): T {
  return new C(new SharedArrayBuffer(Math.max(1, n) * 4));
}

/**
 * Builds the index over kept rows [0, rows) with n-gram-table rows `kept` (as `queryLists` gives
 * them; stages/ngram-index.ts makes them from the kept words) and vector norms `norms`, for a model
 * with `buckets` n-gram-table rows. Every bucket weighs 1 until readBucketWeights. Cost: two passes over the postings.
 */
export function buildNgramIndex(kept: QueryLists, rows: number, norms: Float32Array, buckets: number, maxPostings = NGRAM_MAX_POSTINGS): NgramSetup {
  const count = new Int32Array(buckets + 1);
  const scale = shared(Float32Array, rows);
  // each kept row's buckets sorted in place, a bucket used twice counted once
  const ko = kept.offsets;
  const kr = kept.rows;
  for (let i = 0; i < rows; i++) {
    const a = ko[i]!;
    const e = ko[i + 1]!;
    const norm = norms[i]!;
    scale[i] = norm > 0 ? 1 / Math.sqrt(norm * (1 + e - a)) : 0;
    kr.subarray(a, e).sort();
    for (let j = a; j < e; j++) {
      const b = kr[j]!;
      if (b < 0 || b >= buckets) throw new Error(`ngram index: row ${b} of kept row ${i} outside the n-gram table (${buckets} rows)`);
      if (j === a || b !== kr[j - 1]) count[b + 1]!++;
    }
  }
  const offsets = shared(Int32Array, buckets + 1);
  for (let b = 0; b < buckets; b++) offsets[b + 1] = offsets[b]! + count[b + 1]!;
  const postings = shared(Int32Array, offsets[buckets]!);
  const fill = count; // reused as the next free place per bucket
  fill.set(offsets.subarray(0, buckets));
  // rows in ascending order, so every posting list is ascending
  for (let i = 0; i < rows; i++) {
    for (let j = ko[i]!, e = ko[i + 1]!; j < e; j++) if (j === ko[i] || kr[j] !== kr[j - 1]) postings[fill[kr[j]!]!++] = i;
  }
  const weight = shared(Float32Array, buckets).fill(1);
  return { rows, buckets, offsets, postings, maxPostings, weight, scale, weighted: false };
}

/**
 * Sets the index's bucket weights to the squared norms of the n-gram-table rows some kept row
 * uses (the others are never read by a search), reading the table through `read` in chunks of
 * `chunk` rows (a chunk no kept row uses is skipped). Memory: one chunk of rows at a time.
 * Cost: reading the table once, dim multiply-adds per used row.
 */
export async function readBucketWeights(setup: NgramSetup, read: (start: number, count: number) => Promise<Float32Array>, dim: number, chunk = 8192): Promise<void> {
  const { buckets, offsets, weight } = setup;
  for (let a = 0; a < buckets; a += chunk) {
    const n = Math.min(chunk, buckets - a);
    if (offsets[a] === offsets[a + n]) continue;
    const r = await read(a, n);
    for (let i = 0; i < n; i++) {
      if (offsets[a + i] === offsets[a + i + 1]) continue;
      let s = 0;
      for (let k = i * dim, e = k + dim; k < e; k++) s += r[k]! * r[k]!;
      weight[a + i] = s;
    }
  }
  setup.weighted = true;
}

/** Each query's n-gram-table rows: rows[offsets[q] .. offsets[q + 1]). */
export interface QueryLists {
  offsets: Int32Array;
  rows: Int32Array;
}

/** Queries [a, b) of `l` as lists of their own (offsets from 0). */
export function sliceLists(l: QueryLists, a: number, b: number): QueryLists {
  const o0 = l.offsets[a]!;
  const offsets = l.offsets.slice(a, b + 1);
  for (let i = 0; i < offsets.length; i++) offsets[i] = offsets[i]! - o0;
  return { offsets, rows: l.rows.slice(o0, l.offsets[b]!) };
}

/** Answers of a search: the chosen row (-1: none) and its exact score, per query. */
export interface RowAnswers {
  index: Int32Array;
  score: Float32Array;
}

/**
 * Best of `k` candidate rows per query (`cand`: n x k, -1 = none) by the exact kernel; ties to the
 * lower row; -1 / -Infinity where a query has no candidate. k <= NGRAM_RERANK_WIDTH.
 */
export type Rerank = (queries: Float32Array, n: number, cand: Int32Array, k: number) => RowAnswers;

/** The best entries offered, by (key descending, row ascending): a min-heap of typed arrays. */
class TopRows {
  key = new Float64Array(0);
  row = new Int32Array(0);
  size = 0;
  private cap = 0;

  reset(cap: number): void {
    if (this.key.length < cap) {
      this.key = new Float64Array(cap);
      this.row = new Int32Array(cap);
    }
    this.cap = cap;
    this.size = 0;
  }

  offer(key: number, c: number): void {
    const hk = this.key;
    const hr = this.row;
    if (this.size < this.cap) {
      let x = this.size++;
      while (x > 0) {
        const par = (x - 1) >> 1;
        if (!worse(key, c, hk[par]!, hr[par]!)) break;
        hk[x] = hk[par]!;
        hr[x] = hr[par]!;
        x = par;
      }
      hk[x] = key;
      hr[x] = c;
      return;
    }
    // the top is the worst kept: replace it when c ranks above it, then sift down
    if (!worse(hk[0]!, hr[0]!, key, c)) return;
    const size = this.size;
    let x = 0;
    for (;;) {
      const l = 2 * x + 1;
      if (l >= size) break;
      const r = l + 1;
      const m = r < size && worse(hk[r]!, hr[r]!, hk[l]!, hr[l]!) ? r : l;
      if (!worse(hk[m]!, hr[m]!, key, c)) break;
      hk[x] = hk[m]!;
      hr[x] = hr[m]!;
      x = m;
    }
    hk[x] = key;
    hr[x] = c;
  }
}

/** One thread's search over an NgramSetup (its scratch arrays are its own). */
export class NgramSearcher {
  private readonly stamp: Int32Array;
  private readonly acc: Float64Array;
  private readonly found: Int32Array;
  private tag = 0;
  private readonly best = new TopRows();
  /** The current query's long buckets (walked only when it has no other). */
  private long = new Int32Array(64);

  constructor(readonly setup: NgramSetup) {
    this.stamp = new Int32Array(setup.rows);
    this.acc = new Float64Array(setup.rows);
    this.found = new Int32Array(setup.rows);
  }

  /** Adds the weights of `b`'s kept rows, a first visit setting the stamp; returns the new count found. */
  private walk(b: number, tag: number, nf: number): number {
    const { offsets, postings, weight } = this.setup;
    const { stamp, acc, found } = this;
    const w = weight[b]!;
    for (let p = offsets[b]!, pe = offsets[b + 1]!; p < pe; p++) {
      const c = postings[p]!;
      if (stamp[c] !== tag) {
        stamp[c] = tag;
        acc[c] = w;
        found[nf++] = c;
      } else acc[c] += w;
    }
    return nf;
  }

  /**
   * The shortlists of queries [0, n) of `lists`: out[q * k ...] gets the best (up to) k kept rows by
   * the estimate, ascending by row, -1 after them. Returns the number of queries with no candidate.
   */
  shortlist(lists: QueryLists, n: number, k: number, out: Int32Array): number {
    const { offsets, scale, buckets, maxPostings } = this.setup;
    const { acc, found, best } = this;
    let none = 0;
    for (let q = 0; q < n; q++) {
      if (++this.tag >= 0x3fffffff) {
        this.stamp.fill(0);
        this.tag = 1;
      }
      const tag = this.tag;
      let nf = 0;
      let nl = 0;
      const j0 = lists.offsets[q]!;
      const j1 = lists.offsets[q + 1]!;
      if (this.long.length < j1 - j0) this.long = new Int32Array(j1 - j0);
      const long = this.long;
      // the short lists walked, the long ones noted
      for (let j = j0; j < j1; j++) {
        const b = lists.rows[j]!;
        if (b < 0 || b >= buckets) continue;
        if (offsets[b + 1]! - offsets[b]! > maxPostings) long[nl++] = b;
        else nf = this.walk(b, tag, nf);
      }
      if (nf === 0 && nl > 0) {
        // every bucket is long: walk them all
        for (let i = 0; i < nl; i++) nf = this.walk(long[i]!, tag, nf);
        nl = 0;
      }
      const o = q * k;
      if (nf === 0) none++;
      if (nf <= k) {
        out.set(found.subarray(0, nf).sort(), o);
        out.fill(-1, o + nf, o + k);
        continue;
      }
      best.reset(k);
      for (let i = 0; i < nf; i++) {
        const c = found[i]!;
        best.offer(acc[c]! * scale[c]!, c);
      }
      out.set(best.row.subarray(0, k).sort(), o);
    }
    return none;
  }

  /**
   * Nearest kept row of each of `n` unit queries among its shortlist of `k` (compared exactly with
   * `rerank`, NGRAM_RERANK_WIDTH columns at a time; a later column wins only with a higher score,
   * so ties keep the lower row). Queries with no candidate get -1 (the caller searches them
   * otherwise). `none` receives the count of those.
   */
  search(queries: Float32Array, n: number, lists: QueryLists, k: number, rerank: Rerank): RowAnswers & { none: number } {
    const cand = new Int32Array(n * k);
    const none = this.shortlist(lists, n, k, cand);
    const index = new Int32Array(n).fill(-1);
    const score = new Float32Array(n).fill(-Infinity);
    const w = NGRAM_RERANK_WIDTH;
    const part = k <= w ? cand : new Int32Array(n * w);
    for (let c0 = 0; c0 < k; c0 += w) {
      const kw = Math.min(w, k - c0);
      if (part !== cand) {
        let live = false;
        for (let q = 0; q < n; q++) {
          for (let j = 0; j < kw; j++) part[q * kw + j] = cand[q * k + c0 + j]!;
          live ||= part[q * kw] !== -1;
        }
        // every shortlist ended before this column
        if (!live) break;
      }
      const r = rerank(queries, n, part, kw);
      for (let q = 0; q < n; q++) {
        const i = r.index[q]!;
        if (i >= 0 && (index[q]! < 0 || r.score[q]! > score[q]!)) {
          index[q] = i;
          score[q] = r.score[q]!;
        }
      }
    }
    return { index, score, none };
  }
}

/** Whether (key a, row ra) ranks below (key b, row rb): a lower key, or the same key and a higher row. */
function worse(a: number, ra: number, b: number, rb: number): boolean {
  return a < b || (a === b && ra > rb);
}

/** Bytes the index holds (shared), and per searching thread. */
export function ngramIndexBytes(setup: NgramSetup): { shared: number; perThread: number } {
  return {
    shared: setup.offsets.byteLength + setup.postings.byteLength + setup.weight.byteLength + setup.scale.byteLength,
    perThread: setup.rows * 16,
  };
}

/**
 * One pass over the model that gathers what the cover selection works on:
 *  - the candidates: the C most frequent words with their vectors, in rank order (file order, or
 *    the C highest counts through a streaming top-C heap, ties to the earlier row);
 *  - a uniform sample of the other words (reservoir sampling, seeded), or all of them.
 * Memory: (C + S) x dim floats. Time: one pass, O(rows log C) with counts.
 */
import type { Batch } from '../../pipeline/batch.js';
import { openPass, type RunContext } from '../../pipeline/context.js';
import { drain } from '../../pipeline/stream.js';
import { Xorshift128 } from '../kernels/random.js';
import { TopByCount } from '../top-counts.js';

export interface Gathered {
  dim: number;
  /** Rows seen in the pass (unique words). */
  rows: number;
  /** Candidates in rank order (most frequent first). */
  candidates: { size: number; words: string[]; rows: Int32Array; counts: Float64Array; vectors: Float32Array };
  /** Sampled non-candidate words (rows ascending) and how many non-candidate words they stand for. */
  sample: { size: number; rows: Int32Array; vectors: Float32Array; population: number };
}

export interface GatherOptions {
  /** Candidates to gather (C). */
  candidates: number;
  /** Non-candidate words to sample (S); Infinity for all of them. */
  sample: number;
  /** 'order' (file order is frequency order) or 'counts' (batches carry counts). */
  by: 'order' | 'counts';
  seed: number;
}

/** A growable row store (for a sample of unknown final size). */
class Rows {
  size = 0;
  rows: Int32Array;
  vectors: Float32Array;
  constructor(
    readonly dim: number,
    cap: number,
  ) {
    this.rows = new Int32Array(Math.max(1, cap));
    this.vectors = new Float32Array(Math.max(1, cap) * dim);
  }
  reserve(n: number): void {
    if (n <= this.rows.length) return;
    const cap = Math.max(n, this.rows.length * 2);
    const r = new Int32Array(cap);
    r.set(this.rows.subarray(0, this.size));
    const v = new Float32Array(cap * this.dim);
    v.set(this.vectors.subarray(0, this.size * this.dim));
    this.rows = r;
    this.vectors = v;
  }
  put(slot: number, row: number, vec: Float32Array): void {
    this.rows[slot] = row;
    this.vectors.set(vec, slot * this.dim);
  }
}

export async function gather(ctx: RunContext, opts: GatherOptions): Promise<Gathered> {
  const dim = ctx.model!.info.dim;
  const C = opts.candidates;
  const S = opts.sample;
  const rng = new Xorshift128(opts.seed);
  const cw: string[] = new Array(C);
  const crow = new Int32Array(C);
  const ccount = new Float64Array(C);
  const cvec = new Float32Array(Math.max(1, C * dim));
  const top = new TopByCount(C);
  // Candidates so far (by order).
  let free = 0;
  const res = new Rows(dim, Number.isFinite(S) ? Math.min(S, 65536) : 65536);
  // Rows offered to the reservoir so far.
  let offered = 0;
  let rows = 0;

  const offer = (row: number, vec: Float32Array) => {
    if (offered < S) {
      res.reserve(offered + 1);
      res.put(offered, row, vec);
      res.size = offered + 1;
    } else {
      const j = rng.below(offered + 1);
      if (j < S) res.put(j, row, vec);
    }
    offered++;
  };

  await drain(
    openPass(ctx, 'cover: gather').map((b: Batch) => {
      for (let i = 0; i < b.words.length; i++) {
        const row = b.start + i;
        const vec = b.vectors.subarray(i * dim, (i + 1) * dim);
        rows = row + 1;
        if (opts.by === 'order') {
          if (row < C) {
            cw[row] = b.words[i]!;
            crow[row] = row;
            ccount[row] = b.counts?.[i] ?? 0;
            cvec.set(vec, row * dim);
            free = row + 1;
          } else offer(row, vec);
          continue;
        }
        // By counts: every row is offered to the reservoir (candidates are dropped from it at
        // the end, which leaves a uniform sample of the non-candidates).
        offer(row, vec);
        const count = b.counts![i]!;
        const slot = top.offer(count, row);
        if (slot < 0) continue;
        cw[slot] = b.words[i]!;
        crow[slot] = row;
        ccount[slot] = count;
        cvec.set(vec, slot * dim);
      }
      return b;
    }),
  );

  let candidates: Gathered['candidates'];
  if (opts.by === 'order') {
    candidates = { size: free, words: cw.slice(0, free), rows: crow.slice(0, free), counts: ccount.slice(0, free), vectors: cvec.subarray(0, free * dim) };
  } else {
    const order = top.ranked();
    const size = order.length;
    const words: string[] = new Array(size);
    const r = new Int32Array(size);
    const c = new Float64Array(size);
    const v = new Float32Array(Math.max(1, size * dim));
    order.forEach((e, k) => {
      words[k] = cw[e.slot]!;
      r[k] = e.row;
      c[k] = e.count;
      v.set(cvec.subarray(e.slot * dim, (e.slot + 1) * dim), k * dim);
    });
    candidates = { size, words, rows: r, counts: c, vectors: v };
  }

  // The sample in row order, without candidates.
  const isCand = new Set<number>(candidates.rows);
  const idx: number[] = [];
  for (let j = 0; j < res.size; j++) if (!isCand.has(res.rows[j]!)) idx.push(j);
  idx.sort((a, b) => res.rows[a]! - res.rows[b]!);
  const srows = new Int32Array(idx.length);
  const svec = new Float32Array(Math.max(1, idx.length * dim));
  idx.forEach((j, k) => {
    srows[k] = res.rows[j]!;
    svec.set(res.vectors.subarray(j * dim, (j + 1) * dim), k * dim);
  });
  return {
    dim,
    rows,
    candidates,
    sample: { size: idx.length, rows: srows, vectors: svec, population: rows - candidates.size },
  };
}

/**
 * Inverted-file (IVF) nearest-row search with the project's own SIMD kernels.
 *
 * Build: spherical k-means puts the kept rows into `cells` cells (centroids from a few Lloyd steps
 * on a seeded sample, then every row goes to its nearest centroid); the pool's padded table is then
 * permuted IN PLACE into cell order (rows of a cell contiguous, in their original order), so the
 * index costs no copy of the table: only the centroids, the permutation and per-thread scratch.
 * Search (per batch of queries): the dot products of the queries with all centroids (dots kernel),
 * each query's `probes` best cells, the (query, cell) pairs sorted by cell, the queries of each cell
 * gathered and compared with all rows of that cell by the exact nearest kernel (4 queries x 4 rows
 * blocks), the best per query kept (ties to the lower original row). Every score is the exact
 * kernel's dot product, so whenever the exact row lies in a probed cell the answer IS the exact one.
 * Cost per query: 2 x dim x (cells + probes x rows / cells) flops, instead of 2 x dim x rows.
 *
 * Memory: the area after the pool's slots (SimdLayout.extraBase) holds the centroids and one IVF
 * slot per searching thread: IVF_QUERIES padded queries, a block of centroid dots, IVF_GATHER
 * gathered queries with their answers, and the answers of the slot's queries.
 */
import { addToSums, sumsToUnit } from './centroid-sums.js';
import { dotsModule } from './dots-simd.js';
import { paddedDim, simdModule, type SimdLayout } from './nearest-simd.js';
import { mulberry32 } from './random.js';
import { instantiate, type WasmMemory } from './wasm.js';

/** Queries per IVF call in one slot. */
export const IVF_QUERIES = 2048;
/** Queries per block of centroid dots. */
export const IVF_DOT_QUERIES = 128;
/** (query, cell) pairs gathered per round of the nearest kernel. */
export const IVF_GATHER = 1024;
/** Most probes per query. */
export const IVF_MAX_PROBES = 512;

/** Training: Lloyd steps, sampled rows per cell, and at least this many sampled rows. */
export const IVF_STEPS = 6;
export const IVF_SAMPLE_PER_CELL = 64;
export const IVF_MIN_SAMPLE = 32768;

const round4 = (n: number) => Math.ceil(n / 4) * 4;
const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** Whether both SIMD kernels the index needs are available here. */
export function ivfAvailable(): boolean {
  return simdModule() !== null && dotsModule() !== null;
}

/** Cells for a table of `rows` rows when none are asked for: about 2 x sqrt(rows), at least 1. */
export function defaultCells(rows: number): number {
  return Math.max(1, Math.min(rows, Math.round(2 * Math.sqrt(rows))));
}

/** Flops of buildIvf (k-means steps on the sample, then every row to its cell). */
export function ivfBuildFlops(rows: number, dim: number, cells: number, steps = IVF_STEPS, samplePerCell = IVF_SAMPLE_PER_CELL): number {
  const sample = Math.min(rows, Math.max(cells, cells * samplePerCell, IVF_MIN_SAMPLE));
  return 2 * paddedDim(dim) * cells * (steps * sample + rows);
}

/** Where the IVF things are (byte offsets into the pool's memory); plain data, sent to workers. */
export interface IvfLayout {
  rows: number;
  dim: number;
  /** Floats per padded row. */
  d: number;
  cells: number;
  centroidBase: number;
  slots: number;
  slotBase: number;
  slotBytes: number;
}

function slotBytesFor(d: number, cells: number): number {
  return align64(IVF_QUERIES * d * 4) + align64(IVF_DOT_QUERIES * round4(cells) * 4) + align64(IVF_GATHER * d * 4) + IVF_GATHER * 8 + IVF_QUERIES * 8;
}

/** Bytes the IVF needs after the pool's slots (pass as the pool's extraBytes). */
export function ivfBytes(dim: number, cells: number, slots: number): number {
  const d = paddedDim(dim);
  return align64(round4(cells) * d * 4) + slots * slotBytesFor(d, cells);
}

export function ivfLayout(simd: SimdLayout, cells: number, slots: number): IvfLayout {
  const d = simd.d;
  const centroidBase = simd.extraBase;
  const slotBase = centroidBase + align64(round4(cells) * d * 4);
  const layout = { rows: simd.rows, dim: simd.dim, d, cells, centroidBase, slots, slotBase, slotBytes: slotBytesFor(d, cells) };
  if (slotBase + slots * layout.slotBytes > simd.extraBase + simd.extraBytes) throw new Error('ivf: the pool memory has no room for the index');
  return layout;
}

/** Byte offsets of one slot's areas: queries, centroid dots, gathered queries and their answers, answers. */
interface SlotAreas {
  q: number;
  dotsAt: number;
  gather: number;
  goi: number;
  gos: number;
  ai: number;
  as: number;
}

function slotAreas(layout: IvfLayout, slot: number): SlotAreas {
  const { d, cells, slotBase, slotBytes } = layout;
  const q = slotBase + slot * slotBytes;
  const dotsAt = q + align64(IVF_QUERIES * d * 4);
  const gather = dotsAt + align64(IVF_DOT_QUERIES * round4(cells) * 4);
  const goi = gather + align64(IVF_GATHER * d * 4);
  const gos = goi + IVF_GATHER * 4;
  const ai = gos + IVF_GATHER * 4;
  const as = ai + IVF_QUERIES * 4;
  return { q, dotsAt, gather, goi, gos, ai, as };
}

/** What a thread needs to search: the layout, cell boundaries and the permutation (position -> original row). */
export interface IvfSetup {
  layout: IvfLayout;
  /** cells + 1 positions: cell c holds positions [cellStart[c], cellStart[c + 1]). */
  cellStart: Int32Array;
  /** perm[position] = original row. */
  perm: Int32Array;
}

interface NearestExports {
  nearest(q: number, nq: number, t: number, nt: number, d: number, oi: number, os: number): void;
}
interface DotsExports {
  dots(q: number, nq: number, t: number, nt: number, d: number, out: number, ldo: number): void;
}

/** One thread's view of an IVF index in a shared memory (main thread or pool worker). */
export class IvfSearcher {
  private readonly near: NearestExports;
  private readonly dots: DotsExports;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private pairCell = new Int32Array(0);
  private pairQuery = new Int32Array(0);
  private order = new Int32Array(0);
  private readonly count: Int32Array;
  private readonly topS: Float32Array;
  /** Copy of one query's centroid scores for kthLargest. */
  private scratch: Float32Array;
  private readonly topC: Int32Array;
  private readonly bestRow: Int32Array;

  constructor(
    memory: WasmMemory,
    readonly setup: IvfSetup,
  ) {
    const nm = simdModule();
    const dm = dotsModule();
    if (!nm || !dm) throw new Error('ivf: WebAssembly SIMD kernels unavailable');
    this.near = instantiate<NearestExports>(nm, memory);
    this.dots = instantiate<DotsExports>(dm, memory);
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.count = new Int32Array(setup.layout.cells + 1);
    this.topS = new Float32Array(IVF_MAX_PROBES);
    this.scratch = new Float32Array(0);
    this.topC = new Int32Array(IVF_MAX_PROBES);
    this.bestRow = new Int32Array(IVF_QUERIES);
  }

  /** A searcher for buildIvf's steps (centroidNearest), which need only the layout: no cells yet. */
  static forBuild(memory: WasmMemory, layout: IvfLayout): IvfSearcher {
    return new IvfSearcher(memory, { layout, cellStart: new Int32Array(layout.cells + 1), perm: new Int32Array(0) });
  }

  private areas(slot: number): SlotAreas {
    return slotAreas(this.setup.layout, slot);
  }

  /**
   * Build step (buildIvf): the nearest centroid (in the centroid area) of each of the n rows in the
   * slot's gather area, into the slot's gathered answers. Needs only the setup's layout.
   */
  centroidNearest(slot: number, n: number): void {
    const { d, cells, centroidBase } = this.setup.layout;
    const A = this.areas(slot);
    this.i32.fill(-1, A.goi >> 2, (A.goi >> 2) + n);
    this.f32.fill(-Infinity, A.gos >> 2, (A.gos >> 2) + n);
    this.near.nearest(A.gather, n, centroidBase, cells, d, A.goi, A.gos);
  }

  /** Copies queries [q0, q0 + n) (unpadded, n <= IVF_QUERIES) into the slot, zero-padded to 4 rows. */
  put(slot: number, queries: Float32Array, q0: number, n: number): void {
    const { d, dim } = this.setup.layout;
    const f = this.areas(slot).q >> 2;
    this.f32.fill(0, f, f + round4(n) * d);
    for (let j = 0; j < n; j++) this.f32.set(queries.subarray((q0 + j) * dim, (q0 + j + 1) * dim), f + j * d);
  }

  /** The slot's n answers (original rows and exact dot products) into out[at ...]. */
  take(slot: number, n: number, outIndex: Int32Array, outScore: Float32Array, at = 0): void {
    const { ai, as } = this.areas(slot);
    outIndex.set(this.i32.subarray(ai >> 2, (ai >> 2) + n), at);
    outScore.set(this.f32.subarray(as >> 2, (as >> 2) + n), at);
  }

  /**
   * For the slot's n queries (put), the probes `run` needs to reach position pos[at + i] of the
   * cell-ordered table: 1 + the cells scoring above that position's cell + the lower cells scoring
   * the same (`run` takes ties in cell order). Written to out[at + i].
   * Cost: 2 x dim x cells flops per query (the centroid dots) + cells comparisons.
   */
  probesToReach(slot: number, n: number, pos: Int32Array, out: Int32Array, at = 0): void {
    const { cells, centroidBase } = this.setup.layout;
    const { cellStart } = this.setup;
    const A = this.areas(slot);
    const nc4 = round4(cells);
    const stride = this.setup.layout.d * 4;
    const f32 = this.f32;
    for (let q0 = 0; q0 < n; q0 += IVF_DOT_QUERIES) {
      const m = Math.min(IVF_DOT_QUERIES, n - q0);
      this.dots.dots(A.q + q0 * stride, round4(m), centroidBase, nc4, this.setup.layout.d, A.dotsAt, nc4);
      for (let i = 0; i < m; i++) {
        const o = (A.dotsAt >> 2) + i * nc4;
        const p = pos[at + q0 + i]!;
        if (p < 0) {
          out[at + q0 + i] = 1;
          continue;
        }
        // the cell holding position p: the last cell starting at or before it
        let lo = 0;
        let hi = cells - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (cellStart[mid]! <= p) lo = mid;
          else hi = mid - 1;
        }
        const s = f32[o + lo]!;
        let rank = 1;
        for (let c = 0; c < cells; c++) {
          const t = f32[o + c]!;
          if (t > s || (t === s && c < lo)) rank++;
        }
        out[at + q0 + i] = rank;
      }
    }
  }

  /** Searches the slot's n queries in their `probes` best cells; answers stay in the slot (take). */
  run(slot: number, n: number, probes: number): void {
    const { d, cells, centroidBase } = this.setup.layout;
    const { cellStart } = this.setup;
    const p = Math.max(1, Math.min(probes, cells, IVF_MAX_PROBES));
    const A = this.areas(slot);
    const stride = d * 4;
    const nc4 = round4(cells);
    const f32 = this.f32;
    const i32 = this.i32;
    if (this.order.length < n * p) {
      const size = IVF_QUERIES * p;
      this.pairCell = new Int32Array(size);
      this.pairQuery = new Int32Array(size);
      this.order = new Int32Array(size);
    }
    if (this.scratch.length < cells) this.scratch = new Float32Array(cells);
    // 1. each query's p best cells (ties to the lower cell)
    const { topS, topC, pairCell, pairQuery, count, order, bestRow } = this;
    for (let q0 = 0; q0 < n; q0 += IVF_DOT_QUERIES) {
      const m = Math.min(IVF_DOT_QUERIES, n - q0);
      this.dots.dots(A.q + q0 * stride, round4(m), centroidBase, nc4, d, A.dotsAt, nc4);
      for (let i = 0; i < m; i++) {
        const o = (A.dotsAt >> 2) + i * nc4;
        const q = q0 + i;
        if (p > SELECT_PROBES && p < cells) {
          // many probes: the p-th best score by selection, then the cells above it and, at it, the
          // lowest ones (the same set as the insertion below, listed in cell order)
          const t = kthLargest(f32.subarray(o, o + cells), p, this.scratch);
          let k = 0;
          for (let c = 0; c < cells; c++) if (f32[o + c]! > t) pairCell[q * p + k++] = c;
          for (let c = 0; c < cells && k < p; c++) if (f32[o + c]! === t) pairCell[q * p + k++] = c;
          for (let j = 0; j < p; j++) pairQuery[q * p + j] = q;
          continue;
        }
        let k = 0;
        for (let c = 0; c < cells; c++) {
          const s = f32[o + c]!;
          if (k === p && !(s > topS[p - 1]!)) continue;
          let j = k < p ? k++ : p - 1;
          while (j > 0 && topS[j - 1]! < s) {
            topS[j] = topS[j - 1]!;
            topC[j] = topC[j - 1]!;
            j--;
          }
          topS[j] = s;
          topC[j] = c;
        }
        for (let j = 0; j < k; j++) {
          pairCell[q * p + j] = topC[j]!;
          pairQuery[q * p + j] = q;
        }
        for (let j = k; j < p; j++) pairCell[q * p + j] = -1;
      }
    }
    // 2. pairs sorted by cell (counting sort)
    count.fill(0);
    const np = n * p;
    for (let e = 0; e < np; e++) if (pairCell[e]! >= 0) count[pairCell[e]! + 1]!++;
    for (let c = 0; c < cells; c++) count[c + 1]! += count[c]!;
    for (let e = 0; e < np; e++) {
      const c = pairCell[e]!;
      if (c >= 0) order[count[c]!++] = e;
    }
    // (count[c] is now the end of cell c's pairs; pairs with a cell are in order[0, count[cells - 1]))
    // 3. answers start empty
    const ai = A.ai >> 2;
    const as = A.as >> 2;
    i32.fill(-1, ai, ai + n);
    f32.fill(-Infinity, as, as + n);
    bestRow.fill(0x7fffffff, 0, n);
    // 4. gather the queries of each cell, run the kernel on the cell's rows, keep the best
    const g = A.gather >> 2;
    let filled = 0;
    const runs: number[] = []; // (cell, first gathered pair, length) triples
    let e0 = 0;
    for (let c = 0; c < cells; c++) {
      const end = count[c]!;
      const size = cellStart[c + 1]! - cellStart[c]!;
      while (e0 < end) {
        const len = Math.min(end - e0, IVF_GATHER - filled);
        if (size > 0) {
          for (let j = 0; j < len; j++) {
            const q = pairQuery[order[e0 + j]!]!;
            f32.copyWithin(g + (filled + j) * d, (A.q >> 2) + q * d, (A.q >> 2) + (q + 1) * d);
          }
          runs.push(c, filled, len);
        }
        for (let j = 0; j < len; j++) this.gatherQuery[filled + j] = pairQuery[order[e0 + j]!]!;
        filled += len;
        e0 += len;
        if (filled === IVF_GATHER) {
          this.flushGather(A, runs, filled, ai, as);
          filled = 0;
          runs.length = 0;
        }
      }
    }
    if (filled > 0) this.flushGather(A, runs, filled, ai, as);
  }

  private readonly gatherQuery = new Int32Array(IVF_GATHER);

  private flushGather(A: SlotAreas, runs: number[], filled: number, ai: number, as: number): void {
    const { d } = this.setup.layout;
    const { cellStart, perm } = this.setup;
    const stride = d * 4;
    const f32 = this.f32;
    const i32 = this.i32;
    const goi = A.goi >> 2;
    const gos = A.gos >> 2;
    const bestRow = this.bestRow;
    i32.fill(-1, goi, goi + filled);
    f32.fill(-Infinity, gos, gos + filled);
    for (let r = 0; r < runs.length; r += 3) {
      const c = runs[r]!;
      const a = runs[r + 1]!;
      const len = runs[r + 2]!;
      const start = cellStart[c]!;
      this.near.nearest(A.gather + a * stride, len, start * stride, cellStart[c + 1]! - start, d, A.goi + a * 4, A.gos + a * 4);
      for (let j = a; j < a + len; j++) {
        const rel = i32[goi + j]!;
        if (rel < 0) continue;
        const q = this.gatherQuery[j]!;
        const s = f32[gos + j]!;
        const row = perm[start + rel]!;
        const b = f32[as + q]!;
        if (s > b || (s === b && row < bestRow[q]!)) {
          f32[as + q] = s;
          i32[ai + q] = row;
          bestRow[q] = row;
        }
      }
    }
  }
}

/** Small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  return mulberry32((seed ^ 0x1f1f1f1f) >>> 0);
}

/**
 * Runs `IvfSearcher.centroidNearest(slot, n)` for the build on the thread that owns `slot`
 * (NearestPool: worker i owns slot i + 1); resolves once the slot's answers are written.
 */
export type CentroidNearestRunner = (slot: number, n: number, layout: IvfLayout) => Promise<void>;

export interface IvfBuildOptions {
  cells: number;
  seed: number;
  /** Lloyd steps on the sample (default IVF_STEPS). */
  steps?: number;
  /** Sampled rows per cell for training (default IVF_SAMPLE_PER_CELL, at least IVF_MIN_SAMPLE). */
  samplePerCell?: number;
  /**
   * Where the nearest-centroid steps run: chunks of IVF_GATHER rows dealt to `slots` in turn, each
   * through `run` (the pool's workers). Default: slot 0 on the calling thread. The result is the same.
   */
  runner?: { slots: readonly number[]; run: CentroidNearestRunner };
}

/**
 * Trains the cells on the padded unit rows of `memory` (layout `simd`), writes the centroids into the
 * IVF area and permutes the table in place into cell order. Returns what every searching thread
 * needs. Cost: steps x 2 x sample x cells x dim + 2 x rows x cells x dim flops, spread over the
 * runner's slots (the calling thread only gathers rows and sums them).
 */
export async function buildIvf(memory: WasmMemory, simd: SimdLayout, slots: number, o: IvfBuildOptions): Promise<IvfSetup> {
  const { rows, dim, d } = simd;
  const cells = Math.max(1, Math.min(o.cells, rows));
  const layout = ivfLayout(simd, cells, slots);
  const f32 = new Float32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);
  const random = rng(o.seed);
  // seeded sample of distinct rows (partial Fisher-Yates over row numbers), sorted for locality
  const S = Math.min(rows, Math.max(cells, cells * (o.samplePerCell ?? IVF_SAMPLE_PER_CELL), IVF_MIN_SAMPLE));
  const ids = new Int32Array(rows);
  for (let i = 0; i < rows; i++) ids[i] = i;
  for (let i = 0; i < S; i++) {
    const j = i + Math.floor(random() * (rows - i));
    const t = ids[i]!;
    ids[i] = ids[j]!;
    ids[j] = t;
  }
  // centroids: the first `cells` sampled rows, then Lloyd steps (spherical: normalised means)
  const cent = new Float32Array(cells * dim);
  for (let c = 0; c < cells; c++) cent.set(f32.subarray(ids[c]! * d, ids[c]! * d + dim), c * dim);
  const sample = ids.subarray(0, S).sort();
  // the centroids in the memory (padded rows, zero rows up to a multiple of 4), where the kernel reads them
  const cb = layout.centroidBase >> 2;
  const storeCentroids = () => {
    f32.fill(0, cb, cb + round4(cells) * d);
    for (let c = 0; c < cells; c++) f32.set(cent.subarray(c * dim, (c + 1) * dim), cb + c * d);
  };
  const here = o.runner ? undefined : IvfSearcher.forBuild(memory, layout);
  const use = o.runner?.slots ?? [0];
  const run: CentroidNearestRunner = o.runner?.run ?? (async (slot, n) => here!.centroidNearest(slot, n));
  const bi = new Int32Array(rows);
  const bs = new Float32Array(rows);
  /**
   * Nearest centroid of the rows list[0, n) (rows 0 .. n - 1 without a list) into bi/bs: chunks of
   * IVF_GATHER rows dealt to the slots in turn, each slot running its chunks back to back (no slot
   * waits for another between chunks).
   */
  const assignAll = async (list: Int32Array | null, n: number) => {
    const tails = use.map(() => Promise.resolve());
    for (let k = 0, r0 = 0; r0 < n; k++, r0 += IVF_GATHER) {
      const t = k % use.length;
      const slot = use[t]!;
      const len = Math.min(IVF_GATHER, n - r0);
      const A = slotAreas(layout, slot);
      const at = r0;
      tails[t] = tails[t]!.then(async () => {
        for (let r = 0; r < len; r++) {
          const x = (list ? list[at + r]! : at + r) * d;
          f32.copyWithin((A.gather >> 2) + r * d, x, x + d);
        }
        await run(slot, len, layout);
        bi.set(i32.subarray(A.goi >> 2, (A.goi >> 2) + len), at);
        bs.set(f32.subarray(A.gos >> 2, (A.gos >> 2) + len), at);
      });
    }
    await Promise.all(tails);
  };
  const chunk = 4096;
  const buf = new Float32Array(Math.min(chunk, rows) * dim);
  const sums = new Float64Array(cells * dim);
  const mass = new Float64Array(cells);
  const steps = o.steps ?? IVF_STEPS;
  for (let step = 0; step < steps; step++) {
    storeCentroids();
    await assignAll(sample, S);
    sums.fill(0);
    mass.fill(0);
    let worst = -1;
    let worstScore = Infinity;
    for (let a = 0; a < S; a += chunk) {
      const n = Math.min(chunk, S - a);
      for (let r = 0; r < n; r++) buf.set(f32.subarray(sample[a + r]! * d, sample[a + r]! * d + dim), r * dim);
      addToSums(sums, mass, buf, n, dim, bi.subarray(a, a + n));
      for (let r = 0; r < n; r++) {
        if (bs[a + r]! < worstScore) {
          worstScore = bs[a + r]!;
          worst = sample[a + r]!;
        }
      }
    }
    sumsToUnit(sums, cells, dim, cent);
    // an empty cell takes the sampled row its centroid fits worst (one per step)
    for (let c = 0; c < cells; c++) {
      if (mass[c]! > 0 || worst < 0) continue;
      cent.set(f32.subarray(worst * d, worst * d + dim), c * dim);
      worst = -1;
    }
  }
  // every row to its cell
  storeCentroids();
  await assignAll(null, rows);
  const cellOf = bi;
  // cell order (stable), then the table permuted in place
  const cellStart = new Int32Array(cells + 1);
  for (let r = 0; r < rows; r++) cellStart[cellOf[r]! + 1]!++;
  for (let c = 0; c < cells; c++) cellStart[c + 1]! += cellStart[c]!;
  const next = cellStart.slice(0, cells);
  const perm = new Int32Array(rows);
  for (let r = 0; r < rows; r++) perm[next[cellOf[r]!]!++] = r;
  permuteRows(f32, d, perm);
  return { layout, cellStart, perm };
}

/** Puts the table back in its original order (undoes buildIvf's permutation). */
export function unpermute(memory: WasmMemory, setup: IvfSetup): void {
  const inv = new Int32Array(setup.perm.length);
  for (let i = 0; i < inv.length; i++) inv[setup.perm[i]!] = i;
  permuteRows(new Float32Array(memory.buffer), setup.layout.d, inv);
}

/** In place: row i becomes the row that was at src[i] (cycle by cycle, one row of scratch). */
function permuteRows(f32: Float32Array, d: number, src: Int32Array): void {
  const n = src.length;
  const done = new Uint8Array(n);
  const tmp = new Float32Array(d);
  for (let i = 0; i < n; i++) {
    if (done[i] || src[i] === i) {
      done[i] = 1;
      continue;
    }
    tmp.set(f32.subarray(i * d, (i + 1) * d));
    let j = i;
    for (;;) {
      done[j] = 1;
      const k = src[j]!;
      if (k === i) {
        f32.set(tmp, j * d);
        break;
      }
      f32.copyWithin(j * d, k * d, (k + 1) * d);
      j = k;
    }
  }
}

/** Above this many probes a query's best cells are found by selection instead of insertion. */
const SELECT_PROBES = 8;

/**
 * The k-th largest of `v` (1 <= k <= v.length; no NaN), by quickselect on a copy held in
 * `scratch` (at least v.length long). Average cost O(v.length).
 */
export function kthLargest(v: Float32Array, k: number, scratch: Float32Array): number {
  const n = v.length;
  const a = scratch;
  a.set(v);
  // the (n - k)-th smallest, 0-based
  const want = n - k;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const x = a[i]!;
        a[i] = a[j]!;
        a[j] = x;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return a[want]!;
  }
  return a[want]!;
}

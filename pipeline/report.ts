/**
 * Run report: figures gathered by the stages, printed as a summary and written as JSON.
 * `CosineStats` summarises millions of cosines in bounded memory (a fixed histogram).
 */

const BINS = 20000; // over [-1, 1]: percentiles to 1e-4

export class CosineStats {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  wsum = 0;
  wtotal = 0;
  private readonly hist = new Float64Array(BINS + 1);

  /** Adds a cosine with an optional frequency weight (for the weighted mean). */
  add(c: number, weight = 1): void {
    this.n++;
    this.sum += c;
    if (c < this.min) this.min = c;
    if (c > this.max) this.max = c;
    this.wsum += c * weight;
    this.wtotal += weight;
    let b = Math.round(((c + 1) / 2) * BINS);
    if (b < 0) b = 0;
    else if (b > BINS) b = BINS;
    this.hist[b]! += 1;
  }

  get mean(): number {
    return this.n ? this.sum / this.n : NaN;
  }

  get weightedMean(): number {
    return this.wtotal ? this.wsum / this.wtotal : NaN;
  }

  /** q in [0, 1]; accurate to 1e-4. */
  quantile(q: number): number {
    if (!this.n) return NaN;
    const target = q * (this.n - 1);
    let acc = 0;
    for (let b = 0; b <= BINS; b++) {
      acc += this.hist[b]!;
      if (acc > target) return Math.min(this.max, Math.max(this.min, (b / BINS) * 2 - 1));
    }
    return this.max;
  }

  /** Counts in `k` equal bins over [lo, 1]. */
  histogram(k = 10, lo = -1): { from: number; to: number; count: number }[] {
    const out = [];
    for (let j = 0; j < k; j++) out.push({ from: lo + ((1 - lo) * j) / k, to: lo + ((1 - lo) * (j + 1)) / k, count: 0 });
    for (let b = 0; b <= BINS; b++) {
      const c = this.hist[b]!;
      if (!c) continue;
      const x = (b / BINS) * 2 - 1;
      let j = Math.floor(((x - lo) / (1 - lo)) * k);
      if (j < 0) j = 0;
      if (j >= k) j = k - 1;
      out[j]!.count += c;
    }
    return out;
  }

  toJSON(): Record<string, number> {
    const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);
    return {
      count: this.n,
      mean: r(this.mean),
      weighted_mean: r(this.weightedMean),
      min: r(this.n ? this.min : NaN),
      p1: r(this.quantile(0.01)),
      p5: r(this.quantile(0.05)),
      p50: r(this.quantile(0.5)),
    };
  }
}

export interface Report {
  input: { file: string; format: string; bytes: number; rows: number; dim: number; duplicates: number };
  output?: { file: string; format: string; layout: string; bytes: number; rows: number };
  method?: string;
  keep?: number;
  kept?: number;
  mapped?: number;
  /** Cosine of mapped (non-kept) words to their row. */
  cosine?: CosineStats;
  /** Cosine of all words (kept words count 1.0). */
  cosineAll?: CosineStats;
  stages: Record<string, { seconds: number }>;
  seconds?: number;
  peakRssBytes?: number;
  warnings: string[];
  [extra: string]: unknown;
}

export function newReport(file: string): Report {
  return { input: { file, format: '', bytes: 0, rows: 0, dim: 0, duplicates: 0 }, stages: {}, warnings: [] };
}

/** Peak resident memory of this process so far (bytes). */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** JSON form (CosineStats expanded). */
export function reportJSON(r: Report): string {
  return JSON.stringify(r, (_k, v) => (v instanceof CosineStats ? v.toJSON() : v), 2);
}

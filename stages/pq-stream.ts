/**
 * Product quantization of rows that are not all in memory (the n-gram rows of a huge fastText
 * model): the same result as pq-quantize.ts `quantizeRows` over the same rows, bit for bit, with
 * only the training sample and one block of rows held at a time.
 *
 * quantizeRows trains on a selection sample (one seeded random draw per row, in row order, until
 * the sample is full) and encodes every row in order. Here the same draws (selectRows, same
 * generator) say which rows the sample takes, those rows are read, training runs on them
 * (trainPqOnSample), and the rows are then encoded block by block as read. On worker threads
 * (pq-pool.ts) sub-spaces train in parallel and blocks are encoded while the next ones are read.
 *
 * Memory: the sample (sample x dim x 4 bytes), the codes (rows x sub-quantizers bytes), one block
 * (on workers: at most 2 blocks per worker in flight, 4,096 x dim x 4 bytes each).
 */
import { PqPool } from './kernels/pq-pool.js';
import { pqJobs, seededRandom, selectRows, trainPqOnSample, type PqCodebook } from './kernels/pq-train.js';
import { cpuSeconds, pqEncoder, trainOptions, type PqOptions, type PqResult } from './pq-quantize.js';

/** Rows in memory, or rows read on demand in ascending order. */
export type RowSource =
  | { rows: number; data: Float32Array }
  | { rows: number; read(sorted: Int32Array, fn: (k: number, data: Float32Array, offset: number) => void): Promise<void> };

/** Rows per block read for encoding. */
const BLOCK_ROWS = 4096;

async function readRows(src: RowSource, wanted: Int32Array, dim: number, into?: Float32Array): Promise<Float32Array> {
  const out = into ?? new Float32Array(wanted.length * dim);
  if ('data' in src) {
    for (let k = 0; k < wanted.length; k++) out.set(src.data.subarray(wanted[k]! * dim, (wanted[k]! + 1) * dim), k * dim);
  } else {
    await src.read(wanted, (k, data, off) => out.set(data.subarray(off, off + dim), k * dim));
  }
  return out;
}

/**
 * quantizeRows over the rows of `sources` in order (see the module comment). With `threads` > 0,
 * or a pool, training and encoding run on worker threads (pq-pool.ts): the same result. A pool
 * passed in stays open (and holds the codebook; the codes and norms are then shared memory).
 */
export async function quantizeRowSources(sources: readonly RowSource[], dim: number, o: PqOptions & { even?: boolean } = {}, threads: number | PqPool = 0): Promise<PqResult> {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const total = sources.reduce((s, b) => s + b.rows, 0);
  const to = trainOptions(o);
  const pool = typeof threads === 'number' ? (threads >= 1 ? new PqPool(threads) : undefined) : threads;
  try {
    // the sample lives in train() only: it is garbage before the encoding's blocks are read
    const { codebook, sampled } = await train(sources, dim, total, to, pool);
    const enc = pqEncoder(codebook, sampled, total, o.qnorm, t0, c0, pool !== undefined && pool === threads);
    if (!pool) {
      for (const src of sources) {
        if ('data' in src) {
          enc.add(src.data, src.rows);
          continue;
        }
        const buf = new Float32Array(Math.min(BLOCK_ROWS, src.rows) * dim);
        for (let s = 0; s < src.rows; s += BLOCK_ROWS) {
          const n = Math.min(BLOCK_ROWS, src.rows - s);
          // one block buffer, encoded before the next read
          enc.add(await readRows(src, blockRows(s, n), dim, buf.subarray(0, n * dim)), n);
        }
      }
      return enc.result();
    }
    // the workers build their search structures while the first blocks are read (a worker takes
    // its messages in order: the codebook before any block)
    const ready = pool.setCodebook(codebook);
    ready.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    // blocks go to the workers as they are read; at most 2 per worker in flight
    const flight: Promise<void>[] = [ready];
    let waited = 0;
    const send = async (data: Float32Array, n: number): Promise<void> => {
      while (flight.length - waited >= 2 * pool.size) await flight[waited++];
      const claimed = enc.claim(n);
      flight.push(pool.encode(data, n, !!o.qnorm).then((a) => enc.put(claimed, a.codes!, a.norms, a.err!)));
    };
    for (const src of sources) {
      for (let s = 0; s < src.rows; s += BLOCK_ROWS) {
        const n = Math.min(BLOCK_ROWS, src.rows - s);
        await send('data' in src ? src.data.slice(s * dim, (s + n) * dim) : await readRows(src, blockRows(s, n), dim), n);
      }
    }
    await Promise.all(flight);
    return enc.result();
  } finally {
    if (pool && pool !== threads) await pool.close();
  }
}

/** The codebook trained on the rows trainPq would draw (see the module comment), on the pool's workers when given. */
async function train(sources: readonly RowSource[], dim: number, total: number, to: ReturnType<typeof trainOptions>, pool: PqPool | undefined): Promise<{ codebook: PqCodebook; sampled: number }> {
  // the rows trainPq would draw, with the same generator it would draw them from
  const random = seededRandom(to.seed ?? 1);
  const picked = selectRows(total, to.sample, random);
  const sample = new Float32Array(picked.length * dim);
  let base = 0;
  let p = 0;
  for (const src of sources) {
    let q = p;
    while (q < picked.length && picked[q]! < base + src.rows) q++;
    await readRows(src, picked.subarray(p, q).map((r) => r - base), dim, sample.subarray(p * dim, q * dim));
    base += src.rows;
    p = q;
  }
  if (!pool) return trainPqOnSample(sample, picked.length, dim, to);
  const jobs = pqJobs(sample, picked.length, dim, to);
  return jobs.finish(await pool.train(jobs.nsubq, jobs.job));
}

/** Rows [s, s + n). */
function blockRows(s: number, n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, k) => s + k);
}

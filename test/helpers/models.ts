/** Reading whole (small) models in tests through the project's own readers. */
import fs from 'node:fs';
import { openSource } from '../../pipeline/source.js';
import { collect } from '../../pipeline/stream.js';
import { openModel } from '../../stages/formats/index.js';

export interface Loaded {
  format: string;
  dim: number;
  words: string[];
  vectors: Float32Array;
}

export async function loadModel(file: string, from?: string): Promise<Loaded> {
  const src = await openSource(file);
  try {
    const m = await openModel(src, from);
    const bs = await collect(m.pass({ batchRows: 512 }));
    const words = bs.flatMap((b) => b.words);
    const vectors = new Float32Array(words.length * m.info.dim);
    let o = 0;
    for (const b of bs) {
      vectors.set(b.vectors.subarray(0, b.words.length * m.info.dim), o);
      o += b.words.length * m.info.dim;
    }
    await m.close();
    return { format: m.info.format, dim: m.info.dim, words, vectors };
  } finally {
    await src.close();
  }
}

export function row(m: Loaded, i: number): Float32Array {
  return m.vectors.subarray(i * m.dim, (i + 1) * m.dim);
}

export function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Writes a generated word2vec binary (clustered random rows, words w0, w1, ...). */
export function writeSynthW2vBin(file: string, rows: number, dim: number, seed = 1): void {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296 - 0.5;
  };
  const centers = Array.from({ length: 50 }, () => Float32Array.from({ length: dim }, rnd));
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, `${rows} ${dim}\n`);
  const v = new Float32Array(dim);
  const chunk: Buffer[] = [];
  for (let i = 0; i < rows; i++) {
    const c = centers[i % 50]!;
    for (let k = 0; k < dim; k++) v[k] = c[k]! + 0.3 * rnd();
    chunk.push(Buffer.from(`w${i} `), Buffer.from(new Uint8Array(v.buffer).slice()), Buffer.from('\n'));
    if (chunk.length > 3000) fs.writeSync(fd, Buffer.concat(chunk.splice(0)));
  }
  fs.writeSync(fd, Buffer.concat(chunk));
  fs.closeSync(fd);
}

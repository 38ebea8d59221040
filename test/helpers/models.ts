/** Reading whole (small) models in tests through the project's own readers. */
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

/**
 * Helpers the benchmark scripts share: where things are, the compiled modules, a model's rows,
 * WordSim-353 pairs and Spearman correlation, vectors from a word2vec text file, and running a
 * command under /usr/bin/time -v.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');
export const WORDSIM = path.resolve(ROOT, '../shared/fixtures/gensim/wordsim353.tsv');

/** A compiled module of the project (build first: npx tsc -p .). */
export const dist = (p) => import(path.join(ROOT, 'dist', p));

/** Every row of a model in file order: { words, dim, n, vectors: n x dim floats }. */
export async function loadRows(file) {
  const { openSource } = await dist('pipeline/source.js');
  const { collect } = await dist('pipeline/stream.js');
  const { openModel } = await dist('stages/formats/index.js');
  const src = await openSource(file);
  const m = await openModel(src);
  const bs = await collect(m.pass({ batchRows: 4096 }));
  const dim = m.info.dim;
  const words = bs.flatMap((b) => b.words);
  const n = words.length;
  const vectors = new Float32Array(n * dim);
  let o = 0;
  for (const b of bs) {
    vectors.set(b.vectors.subarray(0, b.words.length * dim), o);
    o += b.words.length * dim;
  }
  await m.close();
  await src.close();
  return { words, dim, n, vectors };
}

/** WordSim-353 pairs [a, b, score], words lower-cased (as the GCIDE corpus is). */
export function wordsimPairs() {
  const pairs = [];
  for (const line of fs.readFileSync(WORDSIM, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [a, b, s] = line.split('\t');
    pairs.push([a.toLowerCase(), b.toLowerCase(), Number(s)]);
  }
  return pairs;
}

/** Vectors of the `wanted` words from a word2vec text file (one pass, latin1): word -> numbers. */
export function vectorsOf(file, wanted) {
  const out = new Map();
  const text = fs.readFileSync(file, 'latin1');
  let s = text.indexOf('\n') + 1;
  while (s < text.length) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    const sp = text.indexOf(' ', s);
    if (sp > s && sp < e) {
      const w = text.slice(s, sp);
      if (wanted.has(w)) out.set(w, Float64Array.from(text.slice(sp + 1, e).trim().split(' '), Number));
    }
    s = e + 1;
  }
  return out;
}

/** Cosine of two vectors (0 when either is zero). */
export function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? d / Math.sqrt(na * nb) : 0;
}

/** Ranks from 1, ties sharing their mean rank. */
export function ranks(xs) {
  const idx = xs.map((x, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1]] === xs[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rho: Pearson correlation of the ranks. */
export function spearman(x, y) {
  const rx = ranks(x);
  const ry = ranks(y);
  const n = x.length;
  const mx = rx.reduce((a, b) => a + b, 0) / n;
  const my = ry.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Runs `node args...` under /usr/bin/time -v: wall and CPU seconds, peak RSS in MiB (unrounded). */
export function timeV(args) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${args.join(' ')}\n${r.stderr}`);
  const get = (re) => r.stderr.match(re)?.[1];
  const wall = get(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/)
    .split(':')
    .reduce((acc, x) => acc * 60 + Number(x), 0);
  const cpu = Number(get(/User time \(seconds\): ([\d.]+)/)) + Number(get(/System time \(seconds\): ([\d.]+)/));
  return { wall, cpu, rssMiB: Number(get(/Maximum resident set size \(kbytes\): (\d+)/)) / 1024 };
}

/**
 * Fuzzing every reader: start from real files (../shared/fixtures) and our writers' outputs,
 * mutate them with a seeded generator, run the reader to the end. Each case must finish within
 * a time bound as a valid result or as our own typed error carrying the file and a place (byte
 * offset or line); anything else fails the test with the seed and case number to replay.
 * FUZZ_SEED and FUZZ_CASES override the seed and the number of cases.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, HAVE_FIXTURES, ROOT, tmpDir } from './helpers/fixtures.js';
import { PruneError } from '../pipeline/errors.js';
import { sourceFromBuffer } from '../pipeline/source.js';
import { drain } from '../pipeline/stream.js';
import { openModel } from '../stages/formats/index.js';
import { readCountsFile } from '../stages/counts.js';
import { checkGraph } from '../cli/graph-file.js';
import { runGraph } from '../cli/graph.js';
import { jsonErrorOffset } from '../cli/json-position.js';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.FUZZ_CASES ?? 10000);
const CASE_MS = 5000;

class Rng {
  constructor(private s: number) {
    this.s = (s >>> 0) || 1;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.u32() % Math.max(1, n);
  }
}

type Mutator = (b: Buffer, r: Rng) => Buffer;

const INTS = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 7, 255, 65536, 1e9];

const mutators: Record<string, Mutator> = {
  truncate: (b, r) => b.subarray(0, r.int(b.length)),
  flipBytes: (b, r) => {
    const c = Buffer.from(b);
    for (let n = 1 + r.int(8); n > 0; n--) c[r.int(c.length)] = r.int(256);
    return c;
  },
  headerInt32: (b, r) => {
    const c = Buffer.from(b);
    const off = r.int(Math.min(c.length - 4, 256)) & ~3;
    if (off >= 0 && off + 4 <= c.length) c.writeInt32LE(INTS[r.int(INTS.length)]! | 0, off);
    return c;
  },
  headerInt64: (b, r) => {
    const c = Buffer.from(b);
    const off = r.int(Math.min(c.length - 8, 512));
    if (off >= 0 && off + 8 <= c.length) c.writeBigInt64LE(BigInt(INTS[r.int(INTS.length)]!) * BigInt(1 + r.int(3) * 1000003), off);
    return c;
  },
  textNumbers: (b, r) => {
    // rewrite a decimal number in the first lines (header counts, values) with a hostile one
    const text = b.toString('latin1');
    const re = /-?\d+(\.\d+)?/g;
    const found: [number, number][] = [];
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) && found.length < 64) found.push([m.index, m[0].length]);
    if (!found.length) return b;
    const [at, len] = found[r.int(found.length)]!;
    const rep = ['0', '-1', '-5', '99999999999', 'nan', 'inf', '1e99', '', 'x', '3 4'][r.int(10)]!;
    return Buffer.concat([b.subarray(0, at), Buffer.from(rep), b.subarray(at + len)]);
  },
  duplicateRange: (b, r) => {
    const a = r.int(b.length);
    const len = r.int(Math.min(4096, b.length - a));
    const at = r.int(b.length);
    return Buffer.concat([b.subarray(0, at), b.subarray(a, a + len), b.subarray(at)]);
  },
  dropRange: (b, r) => {
    const a = r.int(b.length);
    const len = 1 + r.int(Math.min(4096, b.length - a));
    return Buffer.concat([b.subarray(0, a), b.subarray(a + len)]);
  },
  invalidUtf8: (b, r) => {
    const at = r.int(b.length);
    const bad = [Buffer.from([0xc3]), Buffer.from([0xff, 0xfe]), Buffer.from([0xe2, 0x82]), Buffer.from([0x80])][r.int(4)]!;
    return Buffer.concat([b.subarray(0, at), bad, b.subarray(at)]);
  },
};

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms (hang?)`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function readModel(data: Buffer, name: string): Promise<void> {
  const src = await sourceFromBuffer(data, name);
  const m = await openModel(src);
  try {
    await drain(m.pass({ batchRows: 64 }));
    const lookup = (m as unknown as { vectorFor?: (w: string) => Promise<unknown>; lookup?: (w: string) => Promise<unknown> });
    if (lookup.vectorFor) await lookup.vectorFor('zzqxunknown');
    if (lookup.lookup) await lookup.lookup('zzqxunknown');
  } finally {
    await m.close();
  }
}

async function readCounts(data: Buffer, name: string): Promise<void> {
  const dir = tmpDir('pp-fuzz-');
  const f = path.join(dir, name);
  fs.writeFileSync(f, data);
  try {
    await readCountsFile(f);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function readGraph(data: Buffer, name: string): Promise<void> {
  const text = data.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // our parser must locate the error
    expect(jsonErrorOffset(text)).toBeGreaterThanOrEqual(0);
    return;
  }
  checkGraph(json, name);
}

interface Seed {
  name: string;
  data: Buffer;
  read: (d: Buffer, name: string) => Promise<void>;
  text: boolean;
}

async function seeds(): Promise<Seed[]> {
  const out: Seed[] = [];
  const ff = ['similarity.bin', 'similarity.txt', 'similarity.nodims', 'embeddings.fifu', 'simple_vocab.fifu', 'ff_buckets.fifu', 'pq.fifu', 'fasttext.bin', 'utf8-incomplete.bin', 'utf8-incomplete.dims'];
  const gs = ['toy-model.bin', 'non_ascii_fasttext.bin', 'cp852_fasttext.bin', 'pretrained.vec', 'test_glove.txt', 'high_precision.kv.bin', 'EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt'];
  for (const f of ff) out.push({ name: `finalfusion/${f}`, data: fs.readFileSync(fixture('finalfusion', f)), read: readModel, text: /\.(txt|nodims|dims)$/.test(f) });
  for (const f of gs) out.push({ name: `gensim/${f}`, data: fs.readFileSync(fixture('gensim', f)), read: readModel, text: /\.(txt|vec)$/.test(f) });
  // our own writers' outputs, from a small slice of the bundled model
  const dir = tmpDir('pp-fuzz-w-');
  const small = path.join(dir, 'small.vec');
  fs.writeFileSync(small, fs.readFileSync(path.join(ROOT, 'examples', 'gcide-small.vec'), 'latin1').split('\n').slice(0, 301).join('\n').replace(/^8661/, '300') + '\n', 'latin1');
  for (const [to, ext] of [['w2v-bin', 'bin'], ['w2v-text', 'txt'], ['glove', 'glove'], ['fifu', 'fifu']] as const) {
    const o = path.join(dir, `ours.${ext}`);
    await runGraph({ input: small, stages: [{ stage: 'parse' }, { stage: 'rank', keep: 60 }, { stage: 'assign' }, { stage: 'serialize', output: o, to }] }, { quiet: true, threads: 1 });
    out.push({ name: `ours.${ext}`, data: fs.readFileSync(o), read: readModel, text: ext === 'txt' || ext === 'glove' });
  }
  out.push({
    name: 'counts.tsv',
    data: Buffer.from(Array.from({ length: 200 }, (_, i) => `w${i}\t${1000 - i}`).join('\n') + '\n'),
    read: readCounts,
    text: true,
  });
  for (const g of fs.readdirSync(path.join(ROOT, 'examples', 'graphs'))) {
    out.push({ name: `graph:${g}`, data: fs.readFileSync(path.join(ROOT, 'examples', 'graphs', g)), read: readGraph, text: true });
  }
  return out;
}

describe.skipIf(!HAVE_FIXTURES)('fuzzing every reader', () => {
  it(`${CASES} mutated files end as a result or a typed error with file and place`, async () => {
    const all = await seeds();
    const rng = new Rng(SEED);
    const names = Object.keys(mutators);
    const stats = { ok: 0, refused: 0 };
    const perReader = new Map<string, number>();
    console.log(`fuzz: seed ${SEED}, ${CASES} cases over ${all.length} seed files (replay: FUZZ_SEED=${SEED} FUZZ_CASES=${CASES})`);
    for (let c = 0; c < CASES; c++) {
      const s = all[rng.int(all.length)]!;
      let data = s.data;
      const steps = 1 + rng.int(3);
      const applied: string[] = [];
      for (let k = 0; k < steps; k++) {
        let m = names[rng.int(names.length)]!;
        if (m === 'textNumbers' && !s.text) m = 'headerInt32';
        applied.push(m);
        data = mutators[m]!(data, rng);
      }
      const label = `case ${c} (seed ${SEED}): ${s.name} after ${applied.join('+')}`;
      try {
        await withTimeout(s.read(data, s.name), CASE_MS, label);
        stats.ok++;
      } catch (e) {
        if (!(e instanceof PruneError)) throw new Error(`${label}: not a typed error: ${(e as Error)?.stack ?? String(e)}`);
        const w = e.where;
        if (!w.file) throw new Error(`${label}: error without a file: ${e.message}`);
        if (w.offset === undefined && w.line === undefined && !s.name.startsWith('graph:')) {
          throw new Error(`${label}: error without an offset or line: ${e.describe()}`);
        }
        stats.refused++;
      }
      perReader.set(s.name, (perReader.get(s.name) ?? 0) + 1);
    }
    console.log(`fuzz: ${stats.ok} read, ${stats.refused} refused with a typed error; readers: ${[...perReader.keys()].length}`);
    expect(stats.ok + stats.refused).toBe(CASES);
  }, 600_000);
});

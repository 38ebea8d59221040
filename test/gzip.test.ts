import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fixture, FIXTURES, HAVE_FIXTURES, tmpDir } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { runGraph } from '../cli/graph.js';

const dir = tmpDir();

async function convert(input: string, output: string, spill = false) {
  await runGraph({ input, stages: [{ stage: 'parse' }, { stage: 'serialize', output, to: 'w2v-bin' }] }, { quiet: true, spill });
}

describe.skipIf(!HAVE_FIXTURES)('gzip-compressed input', () => {
  const all = ['finalfusion', 'gensim'].flatMap((d) =>
    fs
      .readdirSync(path.join(FIXTURES, d))
      .filter((f) => !/wordsim|pretrained/.test(f))
      .map((f) => path.join(d, f)),
  );

  it('every fixture compressed gives the same output as uncompressed (random-access formats through --spill)', async () => {
    let streamed = 0;
    let spilled = 0;
    for (const f of all) {
      const plain = fixture(f);
      const gz = path.join(dir, path.basename(f) + '.gz');
      fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(plain)));
      const a = path.join(dir, 'a.bin');
      const b = path.join(dir, 'b.bin');
      try {
        await convert(plain, a);
      } catch {
        continue; // not a model every reader accepts as is (covered elsewhere)
      }
      try {
        await convert(gz, b);
        streamed++;
      } catch (e) {
        expect(String((e as Error).message)).toMatch(/read at row offsets.*--spill/);
        await convert(gz, b, true);
        spilled++;
      }
      expect(fs.readFileSync(b).equals(fs.readFileSync(a)), f).toBe(true);
    }
    expect(streamed).toBeGreaterThanOrEqual(10);
    expect(spilled).toBeGreaterThanOrEqual(8);
  });

  it('standard input may be compressed too', () => {
    const input = zlib.gzipSync(fs.readFileSync(fixture('finalfusion', 'similarity.bin')));
    const r = runCli(['convert', '-', '-', '--to', 'w2v-bin', '-q'], { input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.equals(fs.readFileSync(fixture('finalfusion', 'similarity.bin')))).toBe(true);
  });

  it('a corrupt or truncated gzip stream is a clear error with no output file', () => {
    const gz = zlib.gzipSync(fs.readFileSync(fixture('gensim', 'lee_fasttext.vec')));
    const trunc = path.join(dir, 'trunc.vec.gz');
    fs.writeFileSync(trunc, gz.subarray(0, gz.length >> 1));
    const out = path.join(dir, 'trunc.out');
    const r = runCli(['prune', trunc, '-o', out, '--keep', '100', '-q']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^prune-pipe: .*trunc\.vec\.gz @ byte \d+: gzip data is corrupt or truncated/);
    expect(fs.existsSync(out)).toBe(false);
    const bad = Buffer.from(gz);
    for (let i = 100; i < 140; i++) bad[i] = 0x55;
    const corrupt = path.join(dir, 'corrupt.vec.gz');
    fs.writeFileSync(corrupt, bad);
    const r2 = runCli(['prune', corrupt, '-o', out, '--keep', '100', '-q']);
    expect(r2.code).toBe(3);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a file named .gz that is not compressed still reads', () => {
    const f = path.join(dir, 'plain.vec.gz');
    fs.copyFileSync(fixture('gensim', 'lee_fasttext.vec'), f);
    const r = runCli(['inspect', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/format\s+w2v-text/);
  });

  it('-o NAME.gz writes gzip (atomically), --compress none does not', () => {
    const out = path.join(dir, 'o.vec.gz');
    expect(runCli(['prune', fixture('gensim', 'lee_fasttext.vec'), '-o', out, '--keep', '100', '-q']).code).toBe(0);
    const plain = path.join(dir, 'o.vec');
    expect(runCli(['prune', fixture('gensim', 'lee_fasttext.vec'), '-o', plain, '--keep', '100', '-q']).code).toBe(0);
    expect(zlib.gunzipSync(fs.readFileSync(out)).equals(fs.readFileSync(plain))).toBe(true);
    const raw = path.join(dir, 'raw.vec.gz');
    expect(runCli(['prune', fixture('gensim', 'lee_fasttext.vec'), '-o', raw, '--keep', '100', '--compress', 'none', '-q']).code).toBe(0);
    expect(fs.readFileSync(raw).equals(fs.readFileSync(plain))).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a gzip output whose header is corrected (duplicates dropped) stays valid', () => {
    const dup = path.join(dir, 'dup.txt');
    fs.writeFileSync(dup, '4 2\na 1 0\nb 0 1\na 5 5\nc 1 1\n');
    const out = path.join(dir, 'dup.out.txt.gz');
    expect(runCli(['convert', dup, out, '-q']).code).toBe(0);
    expect(zlib.gunzipSync(fs.readFileSync(out)).toString()).toBe('3 2\na 1 0\nb 0 1\nc 1 1\n');
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, HAVE_FIXTURES, tmpDir } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';

const dir = tmpDir();

function w2vBin(rows: number, dim: number, words: string[], values: (i: number, k: number) => number): Buffer {
  const parts: Buffer[] = [Buffer.from(`${rows} ${dim}\n`)];
  for (let i = 0; i < words.length; i++) {
    const v = new Float32Array(dim);
    for (let k = 0; k < dim; k++) v[k] = values(i, k);
    parts.push(Buffer.from(words[i]! + ' ', 'latin1'), Buffer.from(v.buffer), Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

const text = (s: string) => Buffer.from(s);

/** Runs prune on `data` and checks: exit code, one line naming the file and a place, no output. */
function expectFailure(name: string, data: Buffer, where: RegExp, message: RegExp, code = 3, extra: string[] = []) {
  const input = path.join(dir, name);
  fs.writeFileSync(input, data);
  const out = path.join(dir, `${name}.out`);
  const r = runCli(['prune', input, '-o', out, '--keep', '2', '-q', ...extra]);
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(name);
  expect(lines[0]).toMatch(where);
  expect(lines[0]).toMatch(message);
  expect(fs.existsSync(out)).toBe(false);
  expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
}

describe('bad input: exit code, one line with file and place, no output file', () => {
  it('truncated binary file', () => {
    const full = w2vBin(4, 8, ['alpha', 'beta', 'gamma', 'delta'], (i, k) => i + k);
    expectFailure('trunc.bin', full.subarray(0, full.length - 10), /@ byte \d+/, /ends inside row 4; the header promised 4 rows \(truncated\?\)/);
  });

  it('truncated text file', () => {
    expectFailure('trunc.txt', text('3 2\nalpha 1.5 2.25\nbeta 3.5 4.25\n'), /:\d+/, /ends after 2 rows; the header promised 3/);
  });

  it('header claiming more rows than the file can hold is caught before reading', () => {
    expectFailure('huge.bin', Buffer.concat([text('2000000000 300\n'), Buffer.alloc(100)]), /@ byte 0/, /header claims 2000000000 rows/);
    expectFailure('huge.txt', text('99999999 300\na 1 2\n'), /:1|@ byte 0/, /header claims 99999999 rows/);
  });

  it('zero or negative dims', () => {
    expectFailure('dim0.txt', text('1 0\na\n'), /:1|@ byte 0/, /0 dimensions/);
    expectFailure('dimneg.bin', text('1 -4\na 1234\n'), /@ byte 0/, /-4 dimensions/, 3, ['--from', 'w2v-bin']);
  });

  it('rows with too few or too many values', () => {
    expectFailure('few.txt', text('3 3\na 1 2 3\nb 1 2\nc 1 2 3\n'), /:3/, /expected 3 values after the word, found 2/);
    expectFailure('many.txt', text('a 1 2 3\nb 1 2 3 4\nc 1 2 3\n'), /:2/, /expected 3 values after the word, found 4/);
  });

  it('a value that is not a number', () => {
    expectFailure('nan-text.txt', text('2 2\na 1 2\nb 1 x3\n'), /:3/, /value 2 is not a number: "x3"/);
  });

  it('NaN or Inf values in text and binary', () => {
    expectFailure('nan.txt', text('2 2\na 1 2\nb nan 1\n'), /:3/, /non-finite/);
    expectFailure('inf.txt', text('a 1 2\nb 1 -inf\n'), /:2/, /non-finite/);
    expectFailure('big.txt', text('a 1 2\nb 1 1e39\n'), /:2/, /overflows float32/);
    expectFailure('nan.bin', w2vBin(3, 4, ['a', 'b', 'c'], (i, k) => (i === 1 && k === 2 ? NaN : 1)), /@ byte \d+/, /row 2 .*value 3 is NaN/);
  });

  it('empty input', () => {
    expectFailure('empty.txt', Buffer.alloc(0), /@ byte 0/, /empty file/);
  });

  it('counts file with a malformed line', () => {
    const model = path.join(dir, 'ok.txt');
    fs.writeFileSync(model, 'a 1 2\nb 2 1\nc 1 1\n');
    const counts = path.join(dir, 'counts.tsv');
    fs.writeFileSync(counts, 'a\t10\nb 5\nc\t1\n');
    const out = path.join(dir, 'counts.out');
    const r = runCli(['prune', model, '-o', out, '--keep', '1', '--counts', counts, '-q']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/counts\.tsv:2 @ byte 5: expected `word<TAB>count`/);
    expect(fs.existsSync(out)).toBe(false);
    fs.writeFileSync(counts, 'a\t10\nb\tmany\n');
    const r2 = runCli(['prune', model, '-o', out, '--keep', '1', '--counts', counts, '-q']);
    expect(r2.code).toBe(3);
    expect(r2.stderr).toMatch(/counts\.tsv:2 .*count is not a non-negative number: "many"/);
  });
});

describe('options and output', () => {
  const model = path.join(dir, 'small.txt');
  fs.writeFileSync(model, 'a 1 0\nb 0 1\nc 1 1\nd -1 0\n');

  it('--keep 0 is a usage error (exit 2)', () => {
    const r = runCli(['prune', model, '-o', path.join(dir, 'k0.txt'), '--keep', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--keep must be a positive integer/);
    expect(fs.existsSync(path.join(dir, 'k0.txt'))).toBe(false);
  });

  it('a command line yargs refuses stops there: exit 2 with the reason, the command never runs', () => {
    // convert takes its output as a positional; `-o` is unknown and the output is missing
    const out = path.join(dir, 'conv.bin');
    const r = runCli(['convert', model, '-o', out, '--to', 'w2v-bin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^prune-pipe: Not enough non-option arguments: got 1, need at least 2\nRun 'prune-pipe --help' for usage\.\n$/);
    expect(fs.existsSync(out)).toBe(false);
    const u = runCli(['prune', model, '-o', path.join(dir, 'u.txt'), '--keep', '2', '--bogus-option']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/Unknown arguments?: bogus-option/);
    expect(u.stderr).not.toMatch(/internal error/);
    expect(fs.existsSync(path.join(dir, 'u.txt'))).toBe(false);
  });

  it('--keep >= rows keeps everything and says so', () => {
    const out = path.join(dir, 'all.txt');
    const r = runCli(['prune', model, '-o', out, '--keep', '10']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--keep 10 >= 4 rows: every row is kept/);
    expect(fs.readFileSync(out, 'latin1')).toBe('4 2\na 1 0\nb 0 1\nc 1 1\nd -1 0\n');
  });

  it('missing or unwritable output folder: exit 4, nothing written', () => {
    const r = runCli(['prune', model, '-o', path.join(dir, 'nope', 'x.txt'), '--keep', '2']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toMatch(/x\.txt: output folder does not exist/);
    const r2 = runCli(['prune', model, '-o', '/proc/prune-pipe-test.txt', '--keep', '2']);
    expect(r2.code).toBe(4);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('duplicate words: the first is kept, one warning with the count', () => {
    const dup = path.join(dir, 'dup.txt');
    fs.writeFileSync(dup, '5 2\na 1 0\nb 0 1\na 5 5\nc 1 1\nb 9 9\n');
    const out = path.join(dir, 'dup.out.txt');
    const r = runCli(['prune', dup, '-o', out, '--keep', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/duplicate/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/2 duplicate words dropped/);
    expect(fs.readFileSync(out, 'latin1')).toBe('3 2\na 1 0\nb 0 1\nc 1 0\n');
  });
});

describe.skipIf(!HAVE_FIXTURES)('standard input and output', () => {
  it("reads '-' and writes '-' (same bytes as files)", () => {
    const input = fs.readFileSync(fixture('finalfusion', 'similarity.bin'));
    const viaPipe = runCli(['prune', '-', '-o', '-', '--keep', '10', '--to', 'w2v-bin', '-q'], { input });
    expect(viaPipe.code, viaPipe.stderr).toBe(0);
    const out = path.join(dir, 'file.bin');
    expect(runCli(['prune', fixture('finalfusion', 'similarity.bin'), '-o', out, '--keep', '10', '-q']).code).toBe(0);
    expect(viaPipe.stdout.equals(fs.readFileSync(out))).toBe(true);
  });
});

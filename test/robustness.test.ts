import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from './helpers/fixtures.js';
import { CLI, runCli } from './helpers/cli.js';
import { writeSynthW2vBin } from './helpers/models.js';
import { createContext, openPass } from '../pipeline/context.js';
import { openSource } from '../pipeline/source.js';
import { drain } from '../pipeline/stream.js';
import { openModel } from '../stages/formats/index.js';
import { InputError } from '../pipeline/errors.js';

const dir = tmpDir();
const MODEL = path.join(dir, 'synth.bin');
writeSynthW2vBin(MODEL, 60000, 64);

interface Child {
  done: Promise<{ code: number | null; stderr: string }>;
  kill(sig: NodeJS.Signals): void;
}

function start(args: string[], opts: { env?: Record<string, string>; stdinFile?: string } = {}): Child {
  const c = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  c.stderr.on('data', (d) => (stderr += d));
  if (opts.stdinFile) fs.createReadStream(opts.stdinFile).pipe(c.stdin);
  else c.stdin.end();
  c.stdin.on('error', () => undefined);
  return { done: new Promise((resolve) => c.on('close', (code) => resolve({ code, stderr }))), kill: (s) => c.kill(s) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 20000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(20);
  }
}

const tmpFilesIn = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.tmp'));

describe('signals remove temporary and partial files', () => {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${sig} while reading, assigning and writing: exit ${code}, one line, nothing left`, async () => {
      for (const phase of ['first pass (counts)', 'assign and write']) {
        const out = tmpDir('pp-sig-');
        const temp = tmpDir('pp-sigtmp-');
        const counts = path.join(dir, 'counts.tsv');
        if (!fs.existsSync(counts)) fs.writeFileSync(counts, Array.from({ length: 60000 }, (_, i) => `w${i}\t${(i * 7919) % 60000}`).join('\n'));
        const args = ['prune', '-', '-o', path.join(out, 'out.bin'), '--keep', '3000', '--threads', '1', '--mapping', path.join(out, 'map.tsv'), '-q'];
        if (phase.startsWith('first')) args.push('--counts', counts);
        const c = start(args, { env: { TMPDIR: temp }, stdinFile: MODEL });
        // the output's temporary file exists from the start; in the write phase it grows
        await waitFor(() => tmpFilesIn(out).length > 0);
        if (phase === 'assign and write') await waitFor(() => tmpFilesIn(out).some((f) => fs.statSync(path.join(out, f)).size > 0));
        else await sleep(150);
        c.kill(sig);
        const r = await c.done;
        expect(r.code, r.stderr).toBe(code);
        expect(r.stderr.trim().split('\n')).toEqual([`prune-pipe: interrupted by ${sig}; partial output removed`]);
        expect(fs.readdirSync(out), phase).toEqual([]);
        expect(fs.readdirSync(temp), `${phase}: spilled standard input removed`).toEqual([]);
      }
    });
  }
});

describe('write failures', () => {
  it('/dev/full: clear error, exit 4', () => {
    const r = runCli(['prune', MODEL, '-o', '/dev/full', '--keep', '100', '-q']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('prune-pipe: /dev/full: write failed: ENOSPC');
  });

  it('a read-only folder (sysfs: root ignores permission bits): exit 4, nothing written', () => {
    const r = runCli(['prune', MODEL, '-o', '/sys/pp-out.bin', '--keep', '100', '-q']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toMatch(/^prune-pipe: \/sys\/pp-out\.bin: cannot write in \/sys: E[A-Z]+$/);
  });

  it('the output folder disappearing during the run: exit 4, no file anywhere', async () => {
    const parent = tmpDir('pp-gone-');
    const out = path.join(parent, 'sub');
    fs.mkdirSync(out);
    const c = start(['prune', MODEL, '-o', path.join(out, 'o.bin'), '--keep', '2000', '--threads', '1', '-q']);
    await waitFor(() => tmpFilesIn(out).length > 0);
    fs.rmSync(out, { recursive: true });
    const r = await c.done;
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toMatch(/^prune-pipe: .*o\.bin: cannot finish output: ENOENT$/);
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it('standard output closed early: exits quietly', async () => {
    const c = spawn(process.execPath, [CLI, 'prune', MODEL, '-o', '-', '--keep', '100', '--to', 'w2v-text', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    let got = 0;
    c.stdout.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 100) c.stdout.destroy();
    });
    const code = await new Promise((r) => c.on('close', r));
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('input that changes between passes', () => {
  it('is detected and reported, not silently mixed', async () => {
    const file = path.join(dir, 'changing.bin');
    fs.copyFileSync(MODEL, file);
    const source = await openSource(file);
    const ctx = createContext(source, { quiet: true });
    ctx.model = await openModel(source);
    await drain(openPass(ctx, 'first'));
    fs.appendFileSync(file, 'x');
    await expect(drain(openPass(ctx, 'second'))).rejects.toThrow(InputError);
    await expect(drain(openPass(ctx, 'third'))).rejects.toThrow(/the file changed while it was being read/);
    await source.close();
  });
});

describe('file handles', () => {
  it('reads that start together open the file once, and close() closes it', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    const source = await openSource(MODEL);
    // the first reads of a sweep start together (runs read ahead)
    const parts = await Promise.all([0, 1, 2, 3].map((i) => source.read(i * 16, 16)));
    expect(parts.map((b) => b.length)).toEqual([16, 16, 16, 16]);
    expect(fds()).toBe(before + 1);
    await source.close();
    expect(fds()).toBe(before);
  });
});

describe('memory budget', () => {
  it('is checked before work starts, with the estimate and what to change', () => {
    const out = path.join(dir, 'budget.bin');
    const r = runCli(['prune', MODEL, '-o', out, '--keep', '50000', '--memory', '100M']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^prune-pipe: estimated memory \d+ MB exceeds --memory 100 MB: .*kept table \d+ MB \(--keep\).*; lower .*--keep/);
    expect(fs.existsSync(out)).toBe(false);
    expect(runCli(['prune', MODEL, '-o', out, '--keep', '10', '--memory', '1G', '-q']).code).toBe(0);
  });
});

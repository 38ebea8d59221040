/**
 * The installed `prune-pipe` is dist/bundle/main.js (package.json "bundle": one file per entry, the
 * main program and each worker, for start-up time). It must behave exactly as the unbundled
 * dist/cli/main.js that the other tests run. Also the other start-up saving: yargs' help cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { skipHelpCache } from '../cli/help-cache.js';
import { BUNDLED_CLI, CLI, runCli } from './helpers/cli.js';
import { fixture, ROOT, tmpDir } from './helpers/fixtures.js';

const EXAMPLE = path.join(ROOT, 'examples/gcide-small.vec');

/** Every source file under a folder (recursive). */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('the bundled command line (dist/bundle)', () => {
  it('is what package.json installs, and every worker the sources start is bundled beside it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(path.join(ROOT, pkg.bin['prune-pipe']!)).toBe(BUNDLED_CLI);
    const workers = new Set<string>();
    for (const f of [...sources(path.join(ROOT, 'stages')), ...sources(path.join(ROOT, 'pipeline')), ...sources(path.join(ROOT, 'cli'))]) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/workerUrl\(import\.meta\.url, '\.\/([\w-]+)\.js'\)/g)) workers.add(m[1]!);
    }
    expect([...workers]).toContain('nearest-worker');
    expect([...workers]).toContain('topk-worker');
    expect(pkg.scripts.bundle).toBe('node scripts/bundle.mjs');
    for (const w of workers) expect(fs.existsSync(path.join(path.dirname(BUNDLED_CLI), `${w}.js`)), w).toBe(true);
  });

  it('prints the same help and version, and fails the same way', () => {
    for (const args of [['--version'], ['--help'], ['prune', '--help'], ['run', '--help']]) {
      const a = runCli(args);
      const b = runCli(args, { cli: BUNDLED_CLI });
      expect(b.code, args.join(' ')).toBe(a.code);
      expect(b.stdout.toString()).toBe(a.stdout.toString());
    }
    const a = runCli(['prune', 'no-such-model.vec', '-o', 'x.vec', '--keep', '10']);
    const b = runCli(['prune', 'no-such-model.vec', '-o', 'x.vec', '--keep', '10'], { cli: BUNDLED_CLI });
    expect(a.code).toBe(3);
    expect(b.code).toBe(3);
    expect(b.stderr).toBe(a.stderr);
  });

  it('writes byte-identical outputs: top-N with the IVF index built and searched on two workers, cover (top-k workers), a fastText model', () => {
    const dir = tmpDir();
    const runs: [string, string[]][] = [
      ['ivf', ['prune', EXAMPLE, '--keep', '2000', '--layout', 'kept', '--search', 'approx', '--threads', '2']],
      ['cover', ['prune', EXAMPLE, '--keep', '500', '--method', 'cover', '--threads', '2']],
      ['fasttext', ['prune', fixture('gensim', 'lee_fasttext_new.bin'), '--keep', '50']],
    ];
    for (const [name, args] of runs) {
      const outs = [CLI, BUNDLED_CLI].map((cli, i) => {
        const out = path.join(dir, `${name}-${i}.bin`);
        const map = path.join(dir, `${name}-${i}.tsv`);
        const r = runCli([...args, '-o', out, '--mapping', map, '-q'], { cli });
        expect(r.code, r.stderr).toBe(0);
        return [fs.readFileSync(out), fs.readFileSync(map)];
      });
      expect(outs[1]![0]!.equals(outs[0]![0]!), name).toBe(true);
      expect(outs[1]![1]!.equals(outs[0]![1]!), name).toBe(true);
      expect(outs[0]![1]!.length).toBeGreaterThan(0);
    }
  });
});

describe('start-up', () => {
  it("yargs' help text is no longer laid out when a command starts (its internal cache is reachable and turned off)", async () => {
    const usageOf = (y: unknown) => (y as { getInternalMethods(): { getUsageInstance(): { hasCachedHelpMessage(): boolean } } }).getInternalMethods().getUsageInstance();
    const make = () => yargs(['go', '--n', '3']).command('go', 'a command', (y) => y.option('n', { type: 'number', describe: 'a number' }), () => undefined);
    const plain = make();
    await plain.parseAsync();
    expect(usageOf(plain).hasCachedHelpMessage()).toBe(true);
    const ours = make();
    expect(skipHelpCache(ours)).toBe(true);
    await ours.parseAsync();
    expect(usageOf(ours).hasCachedHelpMessage()).toBe(false);
    expect(skipHelpCache({})).toBe(false);
  });
});

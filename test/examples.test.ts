import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from './helpers/fixtures.js';

describe('examples', () => {
  it('custom-pipeline.mjs builds a pipeline with the library API', () => {
    const out = tmpDir();
    const stdout = execFileSync(process.execPath, [path.join(ROOT, 'examples', 'custom-pipeline.mjs'), out], { encoding: 'utf8' });
    const r = JSON.parse(stdout);
    expect(r.kept).toBe(1000);
    expect(r.mapped).toBe(8661 - 1000);
    const mapping = fs.readFileSync(path.join(out, 'mapping.tsv'), 'latin1').trim().split('\n');
    expect(mapping).toHaveLength(8661 - 1000);
    // words of the counts text were ranked first, so none of them is mapped
    const mapped = new Set(mapping.map((l) => l.split('\t')[0]));
    for (const w of ['the', 'cat', 'sat', 'dog', 'bird']) expect(mapped.has(w)).toBe(false);
  });

  it("the README's first command works as written", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const cmd = /```sh\n(.*)\n/.exec(readme)![1]!;
    const prune = cmd.split('&&')[1]!.trim();
    expect(prune).toMatch(/^npx prune-pipe prune examples\/gcide-small\.vec/);
    const cwd = tmpDir();
    fs.cpSync(path.join(ROOT, 'examples'), path.join(cwd, 'examples'), { recursive: true });
    const args = prune.split(/\s+/).slice(2);
    execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli', 'main.js'), ...args, '-q'], { cwd });
    expect(fs.readFileSync(path.join(cwd, 'pruned.vec'), 'latin1').split('\n')[0]).toBe('8661 25');
    expect(fs.readFileSync(path.join(cwd, 'mapping.tsv'), 'latin1').trim().split('\n')).toHaveLength(8661 - 2000);
  });
});

/** The folder of prune-pipe's package.json, found by walking up from this module (src or dist). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      try {
        if ((JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string }).name === 'prune-pipe') return (cached = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return (cached = process.cwd());
    dir = up;
  }
}

/** WordSim-353 from the shared fixtures beside the project: ../shared/fixtures/gensim/wordsim353.tsv. */
export function defaultPairsFile(): string {
  return path.resolve(packageRoot(), '../shared/fixtures/gensim/wordsim353.tsv');
}

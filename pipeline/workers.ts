/**
 * Locating worker scripts. Workers always run compiled JavaScript: when the calling module is the
 * TypeScript source (tests run sources), the matching file under dist/ is used (build first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function workerUrl(callerUrl: string, relative: string): URL {
  const url = new URL(relative, callerUrl);
  const file = fileURLToPath(url);
  if (!callerUrl.endsWith('.ts')) return url;
  let dir = path.dirname(fileURLToPath(callerUrl));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
  const rel = path.relative(dir, file).replace(/\.ts$/, '.js');
  const compiled = path.join(dir, 'dist', rel);
  if (!fs.existsSync(compiled)) throw new Error(`worker ${compiled} missing: run npm run build`);
  return pathToFileURL(compiled);
}

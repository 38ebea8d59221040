// Bundles the compiled command line (dist/cli/main.js) and every worker script the sources start
// into dist/bundle/, one file per entry (what package.json's "bin" runs: Node then loads a few
// files instead of about 140 ES modules at start-up). A worker is found where the sources call
// workerUrl(import.meta.url, './NAME.js'); it lands as dist/bundle/NAME.js, which is where that
// call resolves from the bundled code. usearch (a native addon) stays a runtime import.
// usage: node scripts/bundle.mjs      (after tsc; part of npm run build)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Source files (.ts) under a folder, recursively. */
function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** dist paths of the worker scripts started by the sources. */
export function workerEntries() {
  const out = new Set();
  for (const dir of ['pipeline', 'stages', 'cli']) {
    for (const f of sources(path.join(root, dir))) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/workerUrl\(import\.meta\.url, '\.\/([\w-]+)\.js'\)/g)) {
        out.add(path.join(root, 'dist', path.relative(root, path.dirname(f)), `${m[1]}.js`));
      }
    }
  }
  return [...out].sort();
}

const entries = [path.join(root, 'dist/cli/main.js'), ...workerEntries()];
const names = entries.map((e) => path.basename(e));
if (new Set(names).size !== names.length) throw new Error(`bundle: two entries share a file name: ${names.join(', ')}`);
for (const e of entries) if (!fs.existsSync(e)) throw new Error(`bundle: ${e} missing (run tsc first)`);
fs.rmSync(path.join(root, 'dist/bundle'), { recursive: true, force: true });
await build({
  entryPoints: entries,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['usearch'],
  outdir: path.join(root, 'dist/bundle'),
  entryNames: '[name]',
  logLevel: 'warning',
  // CommonJS packages (highland, yargs' helpers) call require: give the ES module bundle one
  banner: { js: "import { createRequire as __ppRequire } from 'node:module'; const require = __ppRequire(import.meta.url);" },
});

// Compiles stages/kernels/ngram-add.wat with the `wabt` package into stages/kernels/ngram-add-wasm.ts
// (base64), as scripts/wasm/build.mjs does for the nearest kernel.
// usage: node scripts/wasm/build-ngram-add.mjs [--check]
import fs from 'node:fs';
import path from 'node:path';
import { compileWat, isMain, moduleSource, ROOT, writeOrCheck } from './build.mjs';

if (isMain(import.meta.url)) {
  const bytes = await compileWat(fs.readFileSync(path.join(ROOT, 'stages/kernels/ngram-add.wat'), 'utf8'));
  writeOrCheck('stages/kernels/ngram-add-wasm.ts', moduleSource(bytes, { script: 'build-ngram-add.mjs', wat: 'ngram-add.wat', what: 'n-gram row-addition kernel', name: 'NGRAM_ADD_WASM' }), 'build-ngram-add.mjs');
}

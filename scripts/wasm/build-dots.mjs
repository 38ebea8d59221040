// Compiles stages/kernels/dots-simd.wat with the `wabt` package into stages/kernels/dots-simd-wasm.ts
// (base64), as scripts/wasm/build.mjs does for the nearest kernel.
// usage: node scripts/wasm/build-dots.mjs [--check]
import fs from 'node:fs';
import path from 'node:path';
import { compileWat, isMain, moduleSource, ROOT, writeOrCheck } from './build.mjs';

if (isMain(import.meta.url)) {
  const bytes = await compileWat(fs.readFileSync(path.join(ROOT, 'stages/kernels/dots-simd.wat'), 'utf8'));
  writeOrCheck('stages/kernels/dots-simd-wasm.ts', moduleSource(bytes, { script: 'build-dots.mjs', wat: 'dots-simd.wat', what: 'dot-product block kernel', name: 'DOTS_SIMD_WASM' }), 'build-dots.mjs');
}

/**
 * What the WebAssembly SIMD kernels (nearest-simd.ts, dots-simd.ts, ivf.ts) share: the parts of the
 * WebAssembly API they use (the project's TypeScript libs do not declare it), compiling a kernel
 * once per thread, instances on a shared memory, and tables copied in as padded rows.
 */
import { normalizeRows } from './normalize.js';

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
export type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes per WebAssembly page. */
export const WASM_PAGE = 65536;
/** Pages of the largest memory (4 GiB, 32-bit addresses). */
export const WASM_MAX_PAGES = 65536;

/**
 * A loader for the kernel in `base64` (a compiled .wat): compiles it on first use in each thread
 * and returns it, or null where WebAssembly SIMD is missing or PRUNE_PIPE_KERNEL=js asks for the
 * plain TypeScript kernels (used to compare the two).
 */
export function lazyModule(base64: string): () => WasmModule | null {
  let compiled: WasmModule | null | undefined;
  return () => {
    if (compiled === undefined) {
      if (process.env.PRUNE_PIPE_KERNEL === 'js') compiled = null;
      else {
        try {
          compiled = new WA.Module(Buffer.from(base64, 'base64'));
        } catch {
          compiled = null;
        }
      }
    }
    return compiled;
  };
}

/** A shared memory of `pages` pages (fixed size). */
export function sharedMemory(pages: number): WasmMemory {
  return new WA.Memory({ initial: pages, maximum: pages, shared: true });
}

/** A memory of `pages` pages for this thread alone (growable). */
export function localMemory(pages: number): WasmMemory {
  return new (WA.Memory as unknown as new (d: { initial: number }) => WasmMemory)({ initial: pages });
}

/** The exports of `module` instantiated on `memory`. */
export function instantiate<E>(module: WasmModule, memory: WasmMemory): E {
  return new WA.Instance(module, { env: { memory } }).exports as E;
}

/**
 * Copies `rows` x `dim` from `table` into `f32` as rows of `d` floats from float 0 (as given, or
 * normalised to unit length with `normalize`); the pads are left as they are (zero in a new memory).
 */
export function copyPaddedRows(f32: Float32Array, table: Float32Array, rows: number, dim: number, d: number, normalize: boolean): void {
  for (let r = 0; r < rows; r++) {
    f32.set(table.subarray(r * dim, (r + 1) * dim), r * d);
    if (normalize) normalizeRows(f32.subarray(r * d, r * d + dim), 1, dim);
  }
}

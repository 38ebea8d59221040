/**
 * The row-addition kernel of n-gram sums (formats/fasttext/sums.ts), and the helper threads that
 * share its work.
 *
 * addPairs(accOff, srcOff, n, dim): for p in [0, n), the `dim` floats at byte i32[accOff/4 + p]
 * get the `dim` floats at byte i32[srcOff/4 + p] added, lane by lane (IEEE float32 additions:
 * WebAssembly SIMD, or the same loop in JavaScript).
 *
 * Helpers: each thread (the calling one and the helpers) is given its own pair lists in the shared
 * memory, and a sweep gives every accumulator to one thread; threads read the same source rows and
 * never write the same accumulator. Each accumulator gets its additions in the order of its lists,
 * so the sums are the same bits with or without helpers.
 */
import { NGRAM_ADD_WASM } from './ngram-add-wasm.js';
import { instantiate, lazyModule, sharedMemory, type WasmMemory } from './wasm.js';
import { WorkerCalls, type WorkerAnswer } from './worker-calls.js';
import { workerUrl } from '../../pipeline/workers.js';

export interface AddKernel {
  addPairs(accOff: number, srcOff: number, n: number, dim: number): void;
}

/** The compiled kernel, or null where WebAssembly SIMD is missing or PRUNE_PIPE_KERNEL=js asks for JavaScript. */
export const ngramAddModule = lazyModule(NGRAM_ADD_WASM);

/**
 * A memory of `bytes` (rounded up to whole pages) for the kernel: shared for the WebAssembly kernel,
 * else a plain buffer. Pages are backed as they are first written, so the size is a bound.
 */
export function addMemory(bytes: number): WasmMemory {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  return ngramAddModule() ? sharedMemory(pages) : { buffer: new ArrayBuffer(pages * 65536) };
}

/** The kernel on `memory` (WebAssembly when available, else JavaScript). */
export function addKernel(memory: WasmMemory): AddKernel {
  const mod = ngramAddModule();
  return mod ? instantiate<AddKernel>(mod, memory) : jsAddKernel(memory);
}

/** The kernel in JavaScript: the same additions, one pair at a time. */
export function jsAddKernel(memory: WasmMemory): AddKernel {
  return {
    addPairs(accOff, srcOff, n, dim) {
      const f = new Float32Array(memory.buffer);
      const i32 = new Int32Array(memory.buffer);
      for (let p = 0; p < n; p++) {
        const a = i32[(accOff >> 2) + p]! >> 2;
        const s = i32[(srcOff >> 2) + p]! >> 2;
        for (let k = 0; k < dim; k++) f[a + k]! += f[s + k]!;
      }
    },
  };
}

/** Where a pair list lies in the memory (byte offsets of its two offset arrays). */
export interface PairList {
  accOff: number;
  srcOff: number;
}

/** What a helper thread gets: the memory and the row length. */
export interface AddWorkerData {
  memory: WasmMemory;
  dim: number;
}

/**
 * Helper threads adding the pairs of the lists they are sent. Needs the WebAssembly kernel (a
 * shared memory).
 */
export class AddHelpers {
  private readonly calls = new WorkerCalls<WorkerAnswer>();

  constructor(memory: WasmMemory, dim: number, readonly size: number) {
    const url = workerUrl(import.meta.url, './ngram-add-worker.js');
    for (let i = 0; i < size; i++) this.calls.start(url, { memory, dim } satisfies AddWorkerData);
  }

  /** Whether helpers can run here (the WebAssembly kernel, more than one thread). */
  static usable(threads: number): boolean {
    return threads > 1 && ngramAddModule() !== null;
  }

  /** Has helper `i` add the first `n` pairs of `list`; resolves when it is done. */
  add(i: number, list: PairList, n: number): Promise<unknown> {
    return this.calls.call(i, { n, accOff: list.accOff, srcOff: list.srcOff });
  }

  close(): Promise<void> {
    return this.calls.close();
  }
}

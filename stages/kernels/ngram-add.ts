/**
 * The row-addition kernel of n-gram sums (formats/fasttext/sums.ts), and the helper threads that
 * share its work.
 *
 * addPairs(accOff, srcOff, n, dim): for p in [0, n), the `dim` floats at byte i32[accOff/4 + p]
 * get the `dim` floats at byte i32[srcOff/4 + p] added, lane by lane (IEEE float32 additions:
 * WebAssembly SIMD, or the same loop in JavaScript).
 *
 * Helpers: each thread (the calling one and the helpers) has its own pair lists in the shared
 * memory, and a sweep gives every accumulator to one thread; threads read the same source rows and
 * never write the same accumulator. Each accumulator gets its additions in the order of its list,
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
  if (mod) return instantiate<AddKernel>(mod, memory);
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

/** Where a thread's pair lists lie in the memory (byte offsets of the two offset arrays). */
export interface PairLists {
  accOff: number;
  srcOff: number;
}

/** What a helper thread gets: the memory, its pair lists, and the row length. */
export interface AddWorkerData {
  memory: WasmMemory;
  lists: PairLists;
  dim: number;
}

/**
 * Helper threads adding the pairs of their own lists while the calling thread adds its list.
 * Needs the WebAssembly kernel (a shared memory).
 */
export class AddHelpers {
  private readonly calls = new WorkerCalls<WorkerAnswer>();

  /** @param lists pair lists: lists[0] the calling thread's, one more per helper */
  constructor(
    private readonly memory: WasmMemory,
    readonly lists: readonly PairLists[],
    private readonly dim: number,
  ) {
    const url = workerUrl(import.meta.url, './ngram-add-worker.js');
    for (let i = 1; i < lists.length; i++) this.calls.start(url, { memory, lists: lists[i]!, dim } satisfies AddWorkerData);
  }

  /** Whether helpers can run here (the WebAssembly kernel, more than one thread). */
  static usable(threads: number): boolean {
    return threads > 1 && ngramAddModule() !== null;
  }

  /** Adds the first counts[i] pairs of each list i (list 0 with `kernel`, here); resolves when all are done. */
  async add(kernel: AddKernel, counts: ArrayLike<number>): Promise<void> {
    const done: Promise<unknown>[] = [];
    for (let i = 1; i < this.lists.length; i++) if (counts[i]! > 0) done.push(this.calls.call(i - 1, { n: counts[i]! }));
    const own = this.lists[0]!;
    if (counts[0]! > 0) kernel.addPairs(own.accOff, own.srcOff, counts[0]!, this.dim);
    await Promise.all(done);
  }

  close(): Promise<void> {
    return this.calls.close();
  }
}

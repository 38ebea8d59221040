/**
 * Sweep worker of a fastText pass (reader.ts): sweeps whole windows into the regions of the pass's
 * shared sweep memory, reading the dense n-gram rows from the file itself, so that a sweep goes on
 * whatever the calling thread is busy with (it only waits for the answer). The calling thread sorts
 * each window's pairs (RowSweeper.sortPairs) when it plans the window, while the window before is
 * swept here, and moves the sorted arrays here and back. The sweeper here is made with the same
 * arguments as the caller's, on its memory: the same layout, the same bits. Each row is checked for
 * non-finite values the first time this worker reads it; a bad row comes back as an InputError with
 * its offset.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PruneError } from '../../../pipeline/errors.js';
import { openSource } from '../../../pipeline/source.js';
import type { WasmMemory } from '../../kernels/wasm.js';
import { RowFile } from './cursor.js';
import { denseRowReader, type DenseLayout } from './dense.js';
import { RowSweeper } from './sums.js';

export interface SweepWorkerData {
  memory: WasmMemory;
  /** The model file (read at offsets). */
  path: string;
  input: DenseLayout;
  nwords: number;
  tableRows: number;
  dim: number;
  capacity: number;
  regions: number;
}

/** Closes the file once the sweep under way is done; the caller then ends the worker. */
export interface CloseRequest {
  id: number;
  close: true;
}

export interface SweepRequest {
  id: number;
  /** The sorted pairs (RowSweeper.sortPairs) in their first `total` entries. */
  pr: Int32Array;
  ps: Int32Array;
  total: number;
  slots: number;
  region: number;
}

const d = workerData as SweepWorkerData;
const source = await openSource(d.path);
const read = denseRowReader(new RowFile(source), d.input, 'input matrix', d.nwords, d.tableRows);
const sweeper = new RowSweeper(
  d.tableRows,
  d.dim,
  (start, count, out, off, wanted) => read(d.nwords + start, count, out, off, wanted),
  d.dim * 4,
  d.capacity,
  1,
  d.regions,
  d.memory,
);

/** The sweep under way (a close waits for it). */
let busy: Promise<unknown> = Promise.resolve();

parentPort!.on('message', (m: SweepRequest | CloseRequest) => {
  if ('close' in m) {
    // the file is closed here before the caller ends this thread (a handle left open would be
    // closed by the garbage collector, with a warning)
    void busy.catch(() => undefined).then(() => source.close()).then(
      () => parentPort!.postMessage({ id: m.id }),
      (e: unknown) => parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
    );
    return;
  }
  busy = sweeper.sweepSorted({ pr: m.pr.subarray(0, m.total), ps: m.ps.subarray(0, m.total) }, m.slots, m.region).then(
    // the arrays go back (moved), to be sorted into again: no garbage of the size of a window
    () => parentPort!.postMessage({ id: m.id, pr: m.pr, ps: m.ps }, [m.pr.buffer as ArrayBuffer, m.ps.buffer as ArrayBuffer]),
    (e: unknown) => {
      const where = e instanceof PruneError ? e.where : undefined;
      parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e), where });
    },
  );
});

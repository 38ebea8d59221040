/**
 * Sweep worker of a fastText pass (reader.ts): sweeps whole windows into the regions of the pass's
 * shared sweep memory, reading the dense n-gram rows from the file itself, so that a sweep goes on
 * whatever the calling thread is busy with (it only waits for the answer). The sweeper here is
 * made with the same arguments as the caller's, on its memory: the same layout, the same bits.
 * Each row is checked for non-finite values the first time this worker reads it; a bad row comes
 * back as an InputError with its offset.
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

export interface SweepRequest {
  id: number;
  rows: Int32Array;
  starts: Int32Array;
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

parentPort!.on('message', (m: SweepRequest) => {
  sweeper.sweep(m.rows, m.starts, m.slots, m.region).then(
    // the lists go back (moved): the worker keeps no garbage of the size of a window
    () => parentPort!.postMessage({ id: m.id, rows: m.rows, starts: m.starts }, [m.rows.buffer as ArrayBuffer, m.starts.buffer as ArrayBuffer]),
    (e: unknown) => {
      const where = e instanceof PruneError ? e.where : undefined;
      parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e), where });
    },
  );
});

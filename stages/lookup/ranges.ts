/**
 * Coalesced random reads: byte ranges (or row runs) sorted by position are grouped while the gap
 * between neighbours is small, and each group is fetched with one read. Rows that follow each
 * other in the file (an expanded output read in its own order) cost one read per batch.
 * Cost: a sort of the requests plus one read per group.
 */

/** Gaps shorter than this are read through rather than skipped with a second read. */
export const GAP_BYTES = 64 * 1024;
/** Largest single read. */
export const MAX_READ_BYTES = 8 * 1024 * 1024;

/**
 * Calls `visit(j, buf, offset)` for each range j (starts[j] .. ends[j], absolute file offsets) with
 * its bytes at buf[offset .. offset + ends[j] - starts[j]).
 */
export async function readRanges(
  read: (position: number, length: number) => Promise<Buffer>,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  visit: (j: number, buf: Buffer, offset: number) => void,
): Promise<void> {
  const n = starts.length;
  const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => starts[a]! - starts[b]!);
  let u = 0;
  while (u < n) {
    const first = order[u]!;
    const lo = starts[first]!;
    let hi = ends[first]!;
    let v = u + 1;
    while (v < n) {
      const j = order[v]!;
      if (starts[j]! - hi > GAP_BYTES || Math.max(hi, ends[j]!) - lo > MAX_READ_BYTES) break;
      hi = Math.max(hi, ends[j]!);
      v++;
    }
    const buf = await read(lo, hi - lo);
    if (buf.length < hi - lo) throw new Error(`short read at byte ${lo}: ${buf.length} of ${hi - lo} bytes`);
    for (let k = u; k < v; k++) {
      const j = order[k]!;
      visit(j, buf, starts[j]! - lo);
    }
    u = v;
  }
}

/**
 * Reads rows `rows[j]` (any order, repeats allowed) with `readRows(start, count)` in runs of nearby
 * rows, and copies row rows[j] to out[j * dim ..]. `rowBytes` is the stored size of one row (for
 * the gap rule).
 */
export async function readRowRuns(
  readRows: (start: number, count: number) => Promise<Float32Array>,
  rows: ArrayLike<number>,
  dim: number,
  rowBytes: number,
  out: Float32Array,
): Promise<void> {
  const n = rows.length;
  const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => rows[a]! - rows[b]!);
  const gap = Math.max(1, Math.floor(GAP_BYTES / Math.max(1, rowBytes)));
  const maxRows = Math.max(1, Math.floor(MAX_READ_BYTES / Math.max(rowBytes, dim * 4)));
  let u = 0;
  while (u < n) {
    const a = rows[order[u]!]!;
    let v = u + 1;
    while (v < n && rows[order[v]!]! - rows[order[v - 1]!]! <= gap && rows[order[v]!]! - a < maxRows) v++;
    const count = rows[order[v - 1]!]! - a + 1;
    const block = await readRows(a, count);
    for (let k = u; k < v; k++) {
      const j = order[k]!;
      const r = rows[j]! - a;
      out.set(block.subarray(r * dim, (r + 1) * dim), j * dim);
    }
    u = v;
  }
}

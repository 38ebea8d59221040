/**
 * fastText dense matrix: int64 rows, int64 cols, then rows x cols little-endian float32, row-major.
 * Only the layout is read when opening; rows are read at their offsets on demand. Writing: the
 * 16-byte head, then the rows as they come (encodeDenseHead).
 */
import { InputError } from '../../../pipeline/errors.js';
import type { Cursor, RowFile } from './cursor.js';

export interface DenseLayout {
  kind: 'dense';
  /** File offset of the matrix header (the rows field). */
  offset: number;
  rows: number;
  cols: number;
  /** File offset of row 0. */
  dataOffset: number;
  /** File offset just after the matrix. */
  end: number;
}

/** Reads a dense matrix header at the cursor and skips its data; checks the data fits the file. */
export async function readDenseLayout(c: Cursor, what: string, dim: number): Promise<DenseLayout> {
  const offset = c.pos;
  const rows = await c.i64(`${what} row count`);
  const cols = await c.i64(`${what} column count`);
  if (rows < 0) throw c.error(`${what} has ${rows} rows; expected 0 or more`, offset);
  if (cols !== dim) throw c.error(`${what} has ${cols} columns; the header gives dimension ${dim}`, offset + 8);
  const bytes = rows * cols * 4;
  if (bytes > c.remaining) {
    throw c.error(
      `${what} claims ${rows} x ${cols} float32 (${bytes} bytes); only ${c.remaining} bytes are left in the file`,
      offset,
    );
  }
  const dataOffset = c.pos;
  c.skip(bytes);
  return { kind: 'dense', offset, rows, cols, dataOffset, end: c.pos };
}

/**
 * Rows [start, start + count) as float32, written into `out` at `outOffset` (floats) or into a new
 * array. Non-finite values are reported with their offset: in every row read, or with `check`
 * (matrix rows in the range, ascending) in those rows only (a caller that reads the same rows again
 * and again checks each once).
 */
export async function readDenseRows(
  file: RowFile,
  m: DenseLayout,
  start: number,
  count: number,
  part: string,
  out?: Float32Array,
  outOffset = 0,
  check?: Int32Array,
): Promise<Float32Array> {
  if (start < 0 || count < 0 || start + count > m.rows) throw new RangeError(`rows [${start}, ${start + count}) outside 0..${m.rows}`);
  const n = count * m.cols;
  const dst = out ?? new Float32Array(n);
  if (n === 0) return dst;
  const at = m.dataOffset + start * m.cols * 4;
  const got = await file.readInto(at, new Uint8Array(dst.buffer, dst.byteOffset + outOffset * 4, n * 4));
  if (got < n * 4) {
    throw new InputError(`file ends inside the matrix (read ${got} of ${n * 4} bytes)`, { file: file.name, offset: at + got, part });
  }
  if (!check) {
    const i = firstNonFinite(dst.subarray(outOffset, outOffset + n));
    if (i >= 0) throw nonFinite(file, m, dst, outOffset, start, i, part);
    return dst;
  }
  for (let k = 0; k < check.length; k++) {
    const o = outOffset + (check[k]! - start) * m.cols;
    const i = firstNonFinite(dst.subarray(o, o + m.cols));
    if (i >= 0) throw nonFinite(file, m, dst, outOffset, start, (check[k]! - start) * m.cols + i, part);
  }
  return dst;
}

/** The error for the non-finite value at float `i` of a read of rows from `start`. */
function nonFinite(file: RowFile, m: DenseLayout, dst: Float32Array, outOffset: number, start: number, i: number, part: string): InputError {
  return new InputError(`row ${start + Math.floor(i / m.cols)} holds a non-finite value (${dst[outOffset + i]})`, {
    file: file.name,
    offset: m.dataOffset + start * m.cols * 4 + i * 4,
    part,
  });
}

/** Index of the first NaN or infinity, or -1. Cost: one pass. */
function firstNonFinite(v: Float32Array): number {
  let acc = 0;
  const n = v.length;
  // x * 0 is 0 for finite x and NaN otherwise; summing keeps the check branch-free per value
  for (let k = 0; k < n; k++) acc += v[k]! * 0;
  if (acc === 0) return -1;
  for (let k = 0; k < n; k++) if (v[k]! * 0 !== 0) return k;
  return -1;
}

/** The head of a dense matrix (rows and cols); the float32 rows follow it. */
export function encodeDenseHead(rows: number, cols: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(rows), 0);
  b.writeBigInt64LE(BigInt(cols), 8);
  return b;
}

/**
 * A reader of rows [start, start + count) of a dense matrix whose rows from `base` on are the
 * n-gram table (`tableRows` rows): a read that lists the table rows it uses (`wanted`, ascending,
 * repeats allowed) checks only those for non-finite values, each the first time it is listed
 * (sweeps read the same rows again and again, through gaps they do not use); other reads check
 * every row. One reader per thread that sweeps: each keeps its own marks.
 */
export function denseRowReader(
  file: RowFile,
  m: DenseLayout,
  part: string,
  base: number,
  tableRows: number,
): (start: number, count: number, out?: Float32Array, outOffset?: number, wanted?: Int32Array) => Promise<Float32Array> {
  let checked: Uint8Array | undefined;
  return (start, count, out, outOffset, wanted) => {
    if (!wanted) return readDenseRows(file, m, start, count, part, out, outOffset);
    checked ??= new Uint8Array(tableRows);
    let first = 0;
    while (first < wanted.length && checked[wanted[first]!]) first++;
    const check = new Int32Array(wanted.length - first);
    let n = 0;
    for (let k = first; k < wanted.length; k++) {
      const r = wanted[k]!;
      if (checked[r]) continue;
      checked[r] = 1;
      check[n++] = base + r;
    }
    return readDenseRows(file, m, start, count, part, out, outOffset, check.subarray(0, n));
  };
}

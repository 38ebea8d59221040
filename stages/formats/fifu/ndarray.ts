/**
 * NdArray chunk (id 2): u64 rows, u32 cols, u32 type id (10 = f32), padding, rows x cols f32
 * little-endian, row-major. The padding is 4 - (p mod 4) bytes where p is the file offset right
 * after the type id (1 to 4 bytes; 4 when already aligned), so the data starts 4-byte aligned.
 * Rows are read at their offset, a block at a time; the matrix is never loaded whole.
 */
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader, f32FromBytes, f32Padding } from './bytes.js';
import { ChunkId, encodeFrame, TYPE_F32, type ChunkFrame } from './header.js';

export interface NdArrayInfo {
  kind: 'ndarray';
  frame: ChunkFrame;
  rows: number;
  cols: number;
  /** Offset of row 0. */
  dataStart: number;
}

export async function readNdArray(source: Source, frame: ChunkFrame): Promise<NdArrayInfo> {
  const r = new ChunkReader(source, frame.body, frame.end, 'NdArray chunk');
  const rows = await r.readU64('the row count');
  const colsAt = r.pos;
  const cols = await r.readU32('the column count');
  const typeAt = r.pos;
  const type = await r.readU32('the data type id');
  if (type !== TYPE_F32) r.fail(`expected data type id ${TYPE_F32} (f32), found ${type}`, typeAt);
  if (cols === 0 && rows > 0) r.fail('the matrix has 0 columns', colsAt);
  const pad = f32Padding(r.pos);
  const dataStart = r.pos + pad;
  const bytes = rows * cols * 4;
  if (dataStart + bytes > frame.end) {
    r.fail(
      `${rows} rows x ${cols} cols of f32 need ${bytes} bytes from byte ${dataStart}, but the chunk ends at byte ${frame.end} (${Math.max(0, frame.end - dataStart)} bytes of data; file size ${source.size})`,
      frame.body,
    );
  }
  if (dataStart + bytes !== frame.end) {
    r.fail(`the matrix ends at byte ${dataStart + bytes}, but the chunk length says the chunk ends at byte ${frame.end}`, frame.body);
  }
  return { kind: 'ndarray', frame, rows, cols, dataStart };
}

/** Rows [start, start + count) as one Float32Array. */
export async function readNdArrayRows(source: Source, a: NdArrayInfo, start: number, count: number): Promise<Float32Array> {
  const len = count * a.cols * 4;
  const b = await source.read(a.dataStart + start * a.cols * 4, len);
  if (b.length !== len) throw new Error(`short read of NdArray rows ${start}..${start + count}`);
  return f32FromBytes(b);
}

/** Bytes from the chunk start to row 0 when the chunk starts at file offset `offset`. */
export function ndArrayPrefixLength(offset: number): number {
  return 4 + 8 + 8 + 4 + 4 + f32Padding(offset + 28);
}

/** Total chunk length when it starts at `offset`. */
export function ndArrayChunkLength(offset: number, rows: number, cols: number): number {
  return ndArrayPrefixLength(offset) + rows * cols * 4;
}

/** Everything of an NdArray chunk before the data, for a chunk starting at file offset `offset`. */
export function encodeNdArrayPrefix(offset: number, rows: number, cols: number): Buffer {
  const pad = f32Padding(offset + 28);
  const w = new ByteWriter(28 + pad);
  encodeFrame(w, ChunkId.NdArray, 8 + 4 + 4 + pad + rows * cols * 4)
    .u64(rows)
    .u32(cols)
    .u32(TYPE_F32)
    .zeros(pad);
  return w.result();
}

/**
 * QuantizedArray chunk (id 4): product-quantized rows.
 *   u32 projection flag, u32 norms flag, u32 quantized_len (sub-quantizers = bytes per row),
 *   u32 reconstructed_len (dims), u32 centroids per sub-quantizer, u64 rows,
 *   u32 type id 1 (u8 codes), u32 type id 10 (f32), padding (4 - (p mod 4) bytes after the type ids),
 *   [dims x dims f32 projection], quantized_len x centroids x (dims / quantized_len) f32 centroids,
 *   [rows f32 norms], rows x quantized_len u8 codes.
 * A row is decoded by concatenating, for each sub-quantizer, the centroid its code picks; then,
 * with a projection P, multiplying by P transposed (out[i] = sum_j r[j] P[i][j]); then, with norms,
 * scaling by the row's norm. The quantizer is small and read once; codes and norms are read per
 * block of rows. Decoding costs O(dims) per row (O(dims^2) with a projection).
 * `encodeQuantizedArray` writes the chunk (no projection: plain product quantization).
 */
import { InputError } from '../../../pipeline/errors.js';
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader, f32Bytes, f32FromBytes, f32Padding } from './bytes.js';
import { ChunkId, encodeFrame, TYPE_F32, TYPE_U8, type ChunkFrame } from './header.js';

export interface QuantizedInfo {
  kind: 'quantized';
  frame: ChunkFrame;
  rows: number;
  cols: number;
  quantizedLen: number;
  centroids: number;
  projection?: Float32Array;
  /** quantizedLen x centroids x (cols / quantizedLen). */
  quantizers: Float32Array;
  normsStart?: number;
  codesStart: number;
}

export async function readQuantized(source: Source, frame: ChunkFrame): Promise<QuantizedInfo> {
  const r = new ChunkReader(source, frame.body, frame.end, 'QuantizedArray chunk');
  const projFlag = await r.readU32('the projection flag');
  const normsFlag = await r.readU32('the norms flag');
  const qAt = r.pos;
  const quantizedLen = await r.readU32('the quantized length');
  const cols = await r.readU32('the reconstructed length');
  const centroids = await r.readU32('the number of centroids');
  const rows = await r.readU64('the row count');
  const t1At = r.pos;
  const t1 = await r.readU32('the code type id');
  if (t1 !== TYPE_U8) r.fail(`expected code type id ${TYPE_U8} (u8), found ${t1}`, t1At);
  const t2 = await r.readU32('the data type id');
  if (t2 !== TYPE_F32) r.fail(`expected data type id ${TYPE_F32} (f32), found ${t2}`, t1At + 4);
  if (quantizedLen === 0 || cols % quantizedLen !== 0) {
    r.fail(`the reconstructed length ${cols} must be a positive multiple of the quantized length ${quantizedLen}`, qAt);
  }
  if (centroids === 0 && rows > 0) r.fail('the quantizer has no centroids', qAt + 8);
  const dataStart = r.pos + f32Padding(r.pos);
  const projBytes = projFlag ? cols * cols * 4 : 0;
  const quantBytes = centroids * cols * 4;
  const normBytes = normsFlag ? rows * 4 : 0;
  const codeBytes = rows * quantizedLen;
  const total = projBytes + quantBytes + normBytes + codeBytes;
  if (dataStart + total !== frame.end) {
    r.fail(
      `${rows} rows of ${quantizedLen} codes, ${centroids} centroids of ${cols} dims${projFlag ? ', a projection' : ''}${normsFlag ? ' and norms' : ''} need ${total} bytes from byte ${dataStart}, so the chunk would end at byte ${dataStart + total}; the chunk length says ${frame.end} (file size ${source.size})`,
      frame.body,
    );
  }
  let p = dataStart;
  const projection = projFlag ? f32FromBytes(await source.read(p, projBytes)) : undefined;
  p += projBytes;
  const quantizers = f32FromBytes(await source.read(p, quantBytes));
  p += quantBytes;
  const normsStart = normsFlag ? p : undefined;
  p += normBytes;
  return { kind: 'quantized', frame, rows, cols, quantizedLen, centroids, projection, quantizers, normsStart, codesStart: p };
}

/** Decodes rows [start, start + count). */
export async function readQuantizedRows(source: Source, q: QuantizedInfo, start: number, count: number): Promise<Float32Array> {
  const { cols, quantizedLen, centroids, quantizers, projection } = q;
  const dsub = cols / quantizedLen;
  const codes = await source.read(q.codesStart + start * quantizedLen, count * quantizedLen);
  const norms = q.normsStart !== undefined ? f32FromBytes(await source.read(q.normsStart + start * 4, count * 4)) : undefined;
  const out = new Float32Array(count * cols);
  const tmp = projection ? new Float32Array(cols) : undefined;
  for (let row = 0; row < count; row++) {
    const o = row * cols;
    for (let s = 0; s < quantizedLen; s++) {
      const c = codes[row * quantizedLen + s]!;
      if (c >= centroids) {
        throw new InputError(`row ${start + row}: code ${c} of sub-quantizer ${s} is not below the ${centroids} centroids`, {
          file: source.name,
          offset: q.codesStart + (start + row) * quantizedLen + s,
          part: 'QuantizedArray chunk',
        });
      }
      const from = (s * centroids + c) * dsub;
      out.set(quantizers.subarray(from, from + dsub), o + s * dsub);
    }
    if (projection && tmp) {
      tmp.set(out.subarray(o, o + cols));
      for (let i = 0; i < cols; i++) {
        let acc = 0;
        for (let j = 0, pi = i * cols; j < cols; j++) acc += tmp[j]! * projection[pi + j]!;
        out[o + i] = acc;
      }
    }
    if (norms) {
      const n = norms[row]!;
      for (let k = o; k < o + cols; k++) out[k] = Math.fround(out[k]! * n);
    }
  }
  return out;
}

/** What a QuantizedArray chunk stores (no projection). */
export interface QuantizedArrayData {
  rows: number;
  /** Reconstructed length (dims). */
  cols: number;
  /** Sub-quantizers (code bytes per row); cols must be a multiple of it. */
  quantizedLen: number;
  /** Centroids per sub-quantizer (at most 256: codes are bytes). */
  centroids: number;
  /** quantizedLen x centroids x (cols / quantizedLen) floats. */
  quantizers: Float32Array;
  /** One norm per row, multiplied into the decoded row, when the rows were quantized unit-length. */
  norms?: Float32Array;
  /** rows x quantizedLen codes. */
  codes: Uint8Array;
}

/**
 * Turns the rows a writer is about to store (count x dim, row-major) into a QuantizedArray; the
 * finalfusion writers call it with every storage row once they are all known.
 */
export type RowQuantizer = (rows: Float32Array, count: number, dim: number) => QuantizedArrayData | Promise<QuantizedArrayData>;

/** A whole QuantizedArray chunk starting at file offset `offset`. Throws an Error for inconsistent data. */
export function encodeQuantizedArray(offset: number, q: QuantizedArrayData): Buffer {
  const { rows, cols, quantizedLen, centroids } = q;
  if (!(quantizedLen >= 1 && cols % quantizedLen === 0)) throw new Error(`dims ${cols} must be a positive multiple of the ${quantizedLen} sub-quantizers`);
  if (!(centroids >= 1 && centroids <= 256)) throw new Error(`${centroids} centroids per sub-quantizer; u8 codes allow 1 to 256`);
  if (q.quantizers.length !== centroids * cols) throw new Error(`${q.quantizers.length} quantizer values; ${quantizedLen} x ${centroids} x ${cols / quantizedLen} expected`);
  if (q.codes.length !== rows * quantizedLen) throw new Error(`${q.codes.length} codes for ${rows} rows of ${quantizedLen}`);
  if (q.norms && q.norms.length !== rows) throw new Error(`${q.norms.length} norms for ${rows} rows`);
  for (let i = 0; i < q.codes.length; i++) if (q.codes[i]! >= centroids) throw new Error(`code ${q.codes[i]} at ${i} is not below ${centroids}`);
  const pad = f32Padding(offset + 48);
  const body = 5 * 4 + 8 + 2 * 4 + pad + q.quantizers.length * 4 + (q.norms ? rows * 4 : 0) + q.codes.length;
  const w = new ByteWriter(12 + body);
  encodeFrame(w, ChunkId.QuantizedArray, body)
    .u32(0)
    .u32(q.norms ? 1 : 0)
    .u32(quantizedLen)
    .u32(cols)
    .u32(centroids)
    .u64(rows)
    .u32(TYPE_U8)
    .u32(TYPE_F32)
    .zeros(pad)
    .bytes(f32Bytes(q.quantizers));
  if (q.norms) w.bytes(f32Bytes(q.norms));
  w.bytes(q.codes);
  return w.result();
}

/**
 * NdNorms chunk (id 6): u64 length, u32 type id (10 = f32), padding (as in NdArray: 4 - (p mod 4)
 * bytes after the type id), then one f32 per word: the L2 norm the word's vector had before it
 * was normalised (finalfusion stores unit-length word rows).
 */
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader, f32Bytes, f32FromBytes, f32Padding } from './bytes.js';
import { ChunkId, encodeFrame, TYPE_F32, type ChunkFrame } from './header.js';

export interface NormsInfo {
  frame: ChunkFrame;
  length: number;
  dataStart: number;
}

export async function readNormsInfo(source: Source, frame: ChunkFrame): Promise<NormsInfo> {
  const r = new ChunkReader(source, frame.body, frame.end, 'NdNorms chunk');
  const length = await r.readU64('the norms count');
  const typeAt = r.pos;
  const type = await r.readU32('the data type id');
  if (type !== TYPE_F32) r.fail(`expected data type id ${TYPE_F32} (f32), found ${type}`, typeAt);
  const dataStart = r.pos + f32Padding(r.pos);
  if (dataStart + length * 4 !== frame.end) {
    r.fail(`${length} norms need ${length * 4} bytes from byte ${dataStart}, so the chunk would end at byte ${dataStart + length * 4}; the chunk length says ${frame.end}`, frame.body);
  }
  return { frame, length, dataStart };
}

export async function readNorms(source: Source, n: NormsInfo, start = 0, count = n.length): Promise<Float32Array> {
  return f32FromBytes(await source.read(n.dataStart + start * 4, count * 4));
}

/** A whole NdNorms chunk starting at file offset `offset`. */
export function encodeNorms(offset: number, norms: Float32Array): Buffer {
  const pad = f32Padding(offset + 24);
  const w = new ByteWriter(24 + pad + norms.length * 4);
  encodeFrame(w, ChunkId.NdNorms, 8 + 4 + pad + norms.length * 4)
    .u64(norms.length)
    .u32(TYPE_F32)
    .zeros(pad)
    .bytes(f32Bytes(norms));
  return w.result();
}

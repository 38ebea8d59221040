/**
 * The finalfusion file header and chunk framing.
 *   header: 'FiFu', u32 version (0), u32 chunk count, u32 chunk id per chunk
 *   chunk:  u32 id, u64 length of the rest of the chunk, body
 * All integers little-endian. A stock finalfusion reader reads the chunks in order: Metadata
 * (only if it is the first chunk), one vocabulary, one storage, then optionally NdNorms.
 */
import { InputError } from '../../../pipeline/errors.js';
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader } from './bytes.js';

export const MAGIC = 'FiFu';
export const VERSION = 0;

export const ChunkId = {
  SimpleVocab: 1,
  NdArray: 2,
  BucketSubwordVocab: 3,
  QuantizedArray: 4,
  Metadata: 5,
  NdNorms: 6,
  FastTextSubwordVocab: 7,
  ExplicitSubwordVocab: 8,
  FloretSubwordVocab: 9,
} as const;

const NAMES: Record<number, string> = {
  1: 'SimpleVocab',
  2: 'NdArray',
  3: 'BucketSubwordVocab',
  4: 'QuantizedArray',
  5: 'Metadata',
  6: 'NdNorms',
  7: 'FastTextSubwordVocab',
  8: 'ExplicitSubwordVocab',
  9: 'FloretSubwordVocab',
};

export function chunkName(id: number): string {
  return NAMES[id] ?? `unknown chunk ${id}`;
}

export function isKnownChunk(id: number): boolean {
  return id in NAMES;
}

/** Type identifiers of array data. */
export const TYPE_U8 = 1;
export const TYPE_F32 = 10;

export interface Header {
  chunkIds: number[];
  /** Offset of the first chunk. */
  end: number;
}

/** Reads and checks the header. */
export async function readHeader(source: Source): Promise<Header> {
  const r = new ChunkReader(source, 0, source.size, 'header');
  await r.need(4, "the magic 'FiFu'");
  const magic = r.bytes(4);
  if (magic.toString('latin1') !== MAGIC) {
    r.fail(`expected the magic 'FiFu', found ${JSON.stringify(magic.toString('latin1'))} (bytes ${magic.toString('hex')})`, 0);
  }
  const version = await r.readU32('the format version');
  if (version !== VERSION) r.fail(`unknown finalfusion version ${version}; only version ${VERSION} exists`, 4);
  const count = await r.readU32('the number of chunks');
  if (count * 4 > r.remaining) {
    r.fail(`header lists ${count} chunks, which needs ${count * 4} bytes of chunk ids; only ${r.remaining} bytes remain in the file`, 8);
  }
  if (count === 0) r.fail('the header lists no chunks; a model needs a vocabulary and a storage chunk', 8);
  const chunkIds: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const id = await r.readU32(`chunk id ${i + 1}`);
    if (!isKnownChunk(id)) r.fail(`unknown chunk id ${id} in the header's chunk list (known ids are 1 to 9)`, at);
    chunkIds.push(id);
  }
  return { chunkIds, end: r.pos };
}

export function encodeHeader(chunkIds: readonly number[]): Buffer {
  const w = new ByteWriter(12 + 4 * chunkIds.length);
  w.bytes(Buffer.from(MAGIC, 'latin1')).u32(VERSION).u32(chunkIds.length);
  for (const id of chunkIds) w.u32(id);
  return w.result();
}

/** Where one chunk lies in the file. */
export interface ChunkFrame {
  id: number;
  name: string;
  /** Offset of the chunk id. */
  offset: number;
  /** Offset of the body (after id and length). */
  body: number;
  /** Offset just past the chunk. */
  end: number;
}

/**
 * Reads the id and length of the chunk at `offset` (chunk number `index`, 0-based). The header's
 * list is only a hint, as for the stock readers (they read Metadata, a vocabulary, a storage and
 * an optional NdNorms in sequence, whatever the list says), so the id found is what counts.
 */
export async function readFrame(source: Source, offset: number, index: number): Promise<ChunkFrame> {
  const where = (o: number, part = `chunk ${index + 1}`) => ({ file: source.name, offset: o, part });
  if (offset + 12 > source.size) {
    throw new InputError(`expected chunk ${index + 1} (12 bytes of id and length) here, but the file ends at byte ${source.size}`, where(offset));
  }
  const b = await source.read(offset, 12);
  const id = b.readUInt32LE(0);
  if (!isKnownChunk(id)) throw new InputError(`unknown chunk id ${id} (known ids are 1 to 9)`, where(offset));
  const lo = b.readUInt32LE(4);
  const hi = b.readUInt32LE(8);
  const len = hi * 4294967296 + lo;
  const name = chunkName(id);
  if (offset + 12 + len > source.size) {
    throw new InputError(
      `chunk length ${hi >= 0x200000 ? (BigInt(hi) << 32n) | BigInt(lo) : len} runs past the end of the file: the chunk would end at byte ${offset + 12 + len}, the file has ${source.size} bytes`,
      where(offset + 4, `${name} chunk`),
    );
  }
  return { id, name, offset, body: offset + 12, end: offset + 12 + len };
}

/** True when a complete chunk with a known id starts at `offset` (used for chunks the header omits). */
export async function chunkFollows(source: Source, offset: number): Promise<boolean> {
  if (offset + 12 > source.size) return false;
  const b = await source.read(offset, 12);
  const len = b.readUInt32LE(8) * 4294967296 + b.readUInt32LE(4);
  return isKnownChunk(b.readUInt32LE(0)) && offset + 12 + len <= source.size;
}

/** Chunk id and u64 length, the start of every chunk. */
export function encodeFrame(w: ByteWriter, id: number, bodyLength: number): ByteWriter {
  return w.u32(id).u64(bodyLength);
}

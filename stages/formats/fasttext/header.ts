/**
 * fastText header: magic number, format version and the training arguments block (read and write).
 *
 * Layout (little-endian): int32 magic 793712314, int32 version (11 or 12), then the arguments:
 * 12 int32 (dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn,
 * lrUpdateRate) and one float64 (t). The old format (fastText before its 2017 versioning, still read
 * by gensim) has no magic and no version: the file starts directly with the arguments.
 */
import type { Cursor } from './cursor.js';

export const FASTTEXT_MAGIC = 793712314;
/** Newest format version we read (fastText 0.9.2 writes 12). */
export const FASTTEXT_VERSION = 12;
/** Bytes of the arguments block. */
export const ARGS_BYTES = 12 * 4 + 8;

export const MODEL_NAMES: Record<number, string> = { 1: 'cbow', 2: 'skipgram', 3: 'supervised' };
export const LOSS_NAMES: Record<number, string> = { 1: 'hs', 2: 'ns', 3: 'softmax', 4: 'ova' };

export interface FastTextArgs {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  neg: number;
  wordNgrams: number;
  /** 1 hs, 2 ns, 3 softmax, 4 ova. */
  loss: number;
  /** 1 cbow, 2 skipgram, 3 supervised. */
  model: number;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
}

/** 'v11'/'v12': magic and version present; 'old': no magic (pre-versioning layout). */
export type FastTextLayout = 'v11' | 'v12' | 'old';

export interface FastTextHeader {
  layout: FastTextLayout;
  /** 11 or 12; 0 for the old layout. */
  version: number;
  args: FastTextArgs;
  /** File offset of the arguments block. */
  argsOffset: number;
  /** File offset just after the header (start of the dictionary). */
  end: number;
}

/** Parses the args block from 56 bytes (no validation). */
export function parseArgs(b: Uint8Array): FastTextArgs {
  const v = new DataView(b.buffer, b.byteOffset, ARGS_BYTES);
  const i = (k: number) => v.getInt32(k * 4, true);
  return {
    dim: i(0),
    ws: i(1),
    epoch: i(2),
    minCount: i(3),
    neg: i(4),
    wordNgrams: i(5),
    loss: i(6),
    model: i(7),
    bucket: i(8),
    minn: i(9),
    maxn: i(10),
    lrUpdateRate: i(11),
    t: v.getFloat64(48, true),
  };
}

/**
 * How much the arguments look like a real fastText arguments block: every field within the
 * range fastText's command line produces. Used to recognise the old layout, which has no magic.
 */
export function plausibleArgs(a: FastTextArgs): boolean {
  return (
    a.dim >= 1 &&
    a.dim <= 100_000 &&
    a.ws >= 1 &&
    a.ws <= 10_000 &&
    a.epoch >= 1 &&
    a.epoch <= 1_000_000 &&
    a.minCount >= 0 &&
    a.neg >= 0 &&
    a.neg <= 100_000 &&
    a.wordNgrams >= 1 &&
    a.wordNgrams <= 100 &&
    a.loss >= 1 &&
    a.loss <= 4 &&
    a.model >= 1 &&
    a.model <= 3 &&
    a.bucket >= 0 &&
    a.minn >= 0 &&
    a.minn <= 1000 &&
    a.maxn >= 0 &&
    a.maxn <= 1000 &&
    a.lrUpdateRate >= 1 &&
    Number.isFinite(a.t) &&
    a.t > 0 &&
    a.t <= 1
  );
}

/** Which layout a file starting with `head` has: 2 = magic, 1 = old layout (plausible args), 0 = not fastText. */
export function detectLayout(head: Uint8Array): number {
  if (head.length >= 8) {
    const v = new DataView(head.buffer, head.byteOffset, 8);
    if (v.getInt32(0, true) === FASTTEXT_MAGIC) return 2;
  }
  if (head.length < ARGS_BYTES + 20) return 0;
  const a = parseArgs(head);
  if (!plausibleArgs(a)) return 0;
  // The dictionary header follows: size, nwords, nlabels (int32), ntokens (int64).
  const d = new DataView(head.buffer, head.byteOffset + ARGS_BYTES, 20);
  const size = d.getInt32(0, true);
  const nwords = d.getInt32(4, true);
  const nlabels = d.getInt32(8, true);
  if (size < 0 || nwords < 0 || nlabels < 0 || nwords + nlabels !== size) return 0;
  return 1;
}

/** Reads and validates the header at the start of the file. */
export async function readHeader(c: Cursor): Promise<FastTextHeader> {
  c.part = 'header';
  await c.need(Math.min(c.size, 8), 'the header');
  if (c.size < 8) throw c.error(`file has ${c.size} bytes; a fastText model starts with at least 8 bytes of header`, 0);
  const magic = await c.i32('magic number');
  let layout: FastTextLayout;
  let version = 0;
  let argsOffset: number;
  if (magic === FASTTEXT_MAGIC) {
    const at = c.pos;
    version = await c.i32('format version');
    if (version > FASTTEXT_VERSION) {
      throw c.error(`fastText format version ${version} is newer than the versions this reader knows (11 and 12)`, at);
    }
    if (version !== 11 && version !== 12) {
      throw c.error(`fastText format version ${version} is not supported (expected 11 or 12)`, at);
    }
    layout = version === 11 ? 'v11' : 'v12';
    argsOffset = 8;
  } else {
    c.pos = 0;
    if (c.size < ARGS_BYTES + 20) {
      throw c.error(`not a fastText model: expected the magic number ${FASTTEXT_MAGIC} at byte 0, found ${magic}`, 0);
    }
    await c.need(ARGS_BYTES + 20, 'the header');
    const head = await c.source.read(0, ARGS_BYTES + 20);
    if (detectLayout(head) !== 1) {
      throw c.error(
        `not a fastText model: expected the magic number ${FASTTEXT_MAGIC} at byte 0, found ${magic} ` +
          '(and the bytes do not look like the older fastText layout without a magic number either)',
        0,
      );
    }
    layout = 'old';
    argsOffset = 0;
  }
  c.pos = argsOffset;
  await c.need(ARGS_BYTES, 'the arguments block');
  const argBytes = await c.source.read(argsOffset, ARGS_BYTES);
  const args = parseArgs(argBytes);
  c.pos = argsOffset + ARGS_BYTES;
  validateArgs(c, args, argsOffset);
  return { layout, version, args, argsOffset, end: c.pos };
}

function validateArgs(c: Cursor, a: FastTextArgs, at: number): void {
  const off = (k: number) => at + k * 4;
  if (a.model === 3) {
    throw c.error('supervised fastText models (classifiers) are not supported: prune-pipe works on word-vector models (skipgram, cbow)', off(7));
  }
  if (a.model !== 1 && a.model !== 2) throw c.error(`expected model 1 (cbow) or 2 (skipgram), found ${a.model}`, off(7));
  if (a.dim < 1 || a.dim > 1_000_000) throw c.error(`expected a vector dimension between 1 and 1000000, found ${a.dim}`, off(0));
  if (a.bucket < 0) throw c.error(`expected a bucket count of 0 or more, found ${a.bucket}`, off(8));
  if (a.minn < 0) throw c.error(`expected minn >= 0, found ${a.minn}`, off(9));
  if (a.maxn < 0) throw c.error(`expected maxn >= 0, found ${a.maxn}`, off(10));
}

/** The 56-byte arguments block. */
export function encodeArgs(a: FastTextArgs): Buffer {
  const b = Buffer.alloc(ARGS_BYTES);
  const ints = [a.dim, a.ws, a.epoch, a.minCount, a.neg, a.wordNgrams, a.loss, a.model, a.bucket, a.minn, a.maxn, a.lrUpdateRate];
  ints.forEach((v, k) => b.writeInt32LE(v, k * 4));
  b.writeDoubleLE(a.t, 48);
  return b;
}

/** Magic number, format version (12: what fastText 0.9.2 writes) and the arguments block. */
export function encodeHeader(a: FastTextArgs, version = FASTTEXT_VERSION): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32LE(FASTTEXT_MAGIC, 0);
  head.writeInt32LE(version, 4);
  return Buffer.concat([head, encodeArgs(a)]);
}

/**
 * fastText product quantization (the `.ftz` input matrix): the product quantizer and the quantized
 * matrix that uses it. This module owns the format of both; a writer belongs here too.
 *
 * Product quantizer: int32 dim, int32 nsubq, int32 dsub, int32 lastdsub, then dim x 256 float32
 * centroids. Sub-quantizer m < nsubq-1 covers dims [m*dsub, m*dsub + dsub) and its centroid k
 * starts at float (m*256 + k)*dsub; the last one covers `lastdsub` dims and its centroid k starts
 * at m*256*dsub + k*lastdsub. So dim = (nsubq-1)*dsub + lastdsub, 1 <= lastdsub <= dsub.
 *
 * Quantized matrix: uint8 qnorm, int64 rows, int64 cols, int32 codesize (= rows x nsubq), the codes
 * (nsubq bytes per row), the product quantizer; if qnorm: rows bytes of norm codes and a second
 * quantizer of dim 1 (256 scalar norms). Row t = norm(t) x concat(centroid of code[t][m]).
 */
import { InputError } from '../../../pipeline/errors.js';
import type { Cursor, RowFile } from './cursor.js';

/** Centroids per sub-quantizer (fixed by the format). */
export const KSUB = 256;

export interface ProductQuantizer {
  dim: number;
  nsubq: number;
  dsub: number;
  lastdsub: number;
  /** dim x 256 floats in the layout above. */
  centroids: Float32Array;
}

/** First float of centroid `k` of sub-quantizer `m`. */
export function centroidOffset(pq: ProductQuantizer, m: number, k: number): number {
  return m === pq.nsubq - 1 ? m * KSUB * pq.dsub + k * pq.lastdsub : (m * KSUB + k) * pq.dsub;
}

/** Reads a product quantizer at the cursor; `dim` is the dimension it must have. */
export async function readProductQuantizer(c: Cursor, what: string, dim: number): Promise<ProductQuantizer> {
  const at = c.pos;
  const qdim = await c.i32(`${what} dimension`);
  const nsubq = await c.i32(`${what} sub-quantizer count`);
  const dsub = await c.i32(`${what} sub-vector size`);
  const lastdsub = await c.i32(`${what} last sub-vector size`);
  if (qdim !== dim) throw c.error(`${what} has dimension ${qdim}; expected ${dim}`, at);
  if (dsub < 1 || dsub > dim) throw c.error(`${what} has sub-vectors of ${dsub} dims; expected 1 to ${dim}`, at + 8);
  if (lastdsub < 1 || lastdsub > dsub) {
    throw c.error(`${what} has a last sub-vector of ${lastdsub} dims; expected 1 to ${dsub} (the sub-vector size)`, at + 12);
  }
  if (nsubq < 1 || (nsubq - 1) * dsub + lastdsub !== dim) {
    throw c.error(
      `${what} sizes are impossible: ${nsubq} sub-quantizers of ${dsub} dims (last ${lastdsub}) do not cover dimension ${dim}`,
      at + 4,
    );
  }
  const n = dim * KSUB;
  if (n * 4 > c.remaining) {
    throw c.error(`${what} needs ${n * 4} bytes of centroids; only ${c.remaining} bytes are left in the file`, c.pos);
  }
  const cAt = c.pos;
  const centroids = await c.f32s(n, `${what} centroids`);
  for (let k = 0; k < n; k++) {
    const v = centroids[k]!;
    if (v - v !== 0) throw c.error(`${what} centroid value ${k} is ${v}`, cAt + k * 4);
  }
  return { dim, nsubq, dsub, lastdsub, centroids };
}

export interface QuantLayout {
  kind: 'quantized';
  /** File offset of the matrix (the qnorm byte). */
  offset: number;
  rows: number;
  cols: number;
  qnorm: boolean;
  /** File offset of row 0's codes; row t's codes are nsubq bytes at codesOffset + t*nsubq. */
  codesOffset: number;
  pq: ProductQuantizer;
  /** File offset of the norm codes (one byte per row) when qnorm. */
  normCodesOffset: number;
  /** 256 norms (dim-1 quantizer) when qnorm. */
  norms?: Float32Array;
  end: number;
}

/** Reads a quantized matrix at the cursor: the layout and quantizers, not the codes. */
export async function readQuantLayout(c: Cursor, what: string, dim: number): Promise<QuantLayout> {
  const offset = c.pos;
  const qnorm = await c.bool(`${what} norm-quantization flag`);
  const rowsAt = c.pos;
  const rows = await c.i64(`${what} row count`);
  const cols = await c.i64(`${what} column count`);
  const sizeAt = c.pos;
  const codesize = await c.i32(`${what} code size`);
  if (rows < 0) throw c.error(`${what} has ${rows} rows; expected 0 or more`, rowsAt);
  if (cols !== dim) throw c.error(`${what} has ${cols} columns; the header gives dimension ${dim}`, rowsAt + 8);
  if (codesize < 0) throw c.error(`${what} code size is ${codesize}; expected 0 or more`, sizeAt);
  if (codesize > c.remaining) {
    throw c.error(`${what} claims ${codesize} bytes of codes; only ${c.remaining} bytes are left in the file`, sizeAt);
  }
  const codesOffset = c.pos;
  c.skip(codesize);
  const pqAt = c.pos;
  const pq = await readProductQuantizer(c, `${what} product quantizer`, dim);
  if (codesize !== rows * pq.nsubq) {
    throw c.error(`${what} has ${codesize} bytes of codes; ${rows} rows x ${pq.nsubq} sub-quantizers need ${rows * pq.nsubq}`, pqAt);
  }
  let normCodesOffset = 0;
  let norms: Float32Array | undefined;
  if (qnorm) {
    if (rows > c.remaining) {
      throw c.error(`${what} needs ${rows} bytes of norm codes; only ${c.remaining} bytes are left in the file`, c.pos);
    }
    normCodesOffset = c.pos;
    c.skip(rows);
    const npqAt = c.pos;
    const npq = await readProductQuantizer(c, `${what} norm quantizer`, 1);
    if (npq.nsubq !== 1) throw c.error(`${what} norm quantizer has ${npq.nsubq} sub-quantizers; expected 1`, npqAt + 4);
    norms = npq.centroids;
  }
  return { kind: 'quantized', offset, rows, cols, qnorm, codesOffset, pq, normCodesOffset, norms, end: c.pos };
}

/**
 * Row `codeRow` of `codes`, times `alpha`, written to out[outOffset .. + dim): each value
 * float32(alpha x centroid) (+ 0, so a -0 is stored as 0, as adding it to a zeroed row would give).
 * Cost: dim.
 */
function decodeCode(pq: ProductQuantizer, codes: Uint8Array, codeOffset: number, alpha: number, out: Float32Array, outOffset: number): void {
  const { nsubq, dsub, centroids } = pq;
  const a = Math.fround(alpha);
  const full = pq.lastdsub === dsub ? nsubq : nsubq - 1;
  if (dsub === 2) {
    for (let m = 0, o = outOffset; m < full; m++, o += 2) {
      const c = (m * KSUB + codes[codeOffset + m]!) * 2;
      out[o] = Math.fround(a * centroids[c]!) + 0;
      out[o + 1] = Math.fround(a * centroids[c + 1]!) + 0;
    }
  } else {
    for (let m = 0; m < full; m++) {
      const c = (m * KSUB + codes[codeOffset + m]!) * dsub;
      const o = outOffset + m * dsub;
      for (let n = 0; n < dsub; n++) out[o + n] = Math.fround(a * centroids[c + n]!) + 0;
    }
  }
  if (full < nsubq) {
    const m = nsubq - 1;
    const c = centroidOffset(pq, m, codes[codeOffset + m]!);
    const o = outOffset + m * dsub;
    for (let n = 0; n < pq.lastdsub; n++) out[o + n] = Math.fround(a * centroids[c + n]!) + 0;
  }
}

/**
 * Code buffers reused from one read to the next (a sweep reads many runs, and a new array per run
 * kept the garbage collector busy); a read takes one from the list and gives it back when done, so
 * reads in flight at the same time never share one.
 */
const freeBuffers: Uint8Array[] = [];
/** Larger buffers (one-off reads of many rows) are not kept. */
const KEEP_BUFFER_BYTES = 16 << 20;

function takeBuffer(n: number): Uint8Array {
  const b = freeBuffers.pop();
  return b && b.length >= n ? b : new Uint8Array(Math.max(n, b ? Math.min(2 * b.length, KEEP_BUFFER_BYTES) : 0));
}

/**
 * Decodes rows [start, start + count) into `out` at `outOffset` (floats) or a new array. With
 * `only`, just rows only.rows[i] + only.base (ascending, repeats allowed, inside the range) are
 * decoded; the others are left as they were.
 */
export async function readQuantRows(
  file: RowFile,
  m: QuantLayout,
  start: number,
  count: number,
  part: string,
  out?: Float32Array,
  outOffset = 0,
  only?: { rows: Int32Array; base: number },
): Promise<Float32Array> {
  if (start < 0 || count < 0 || start + count > m.rows) throw new RangeError(`rows [${start}, ${start + count}) outside 0..${m.rows}`);
  const dim = m.cols;
  const dst = out ?? new Float32Array(count * dim);
  if (count === 0) return dst;
  const nsubq = m.pq.nsubq;
  const at = m.codesOffset + start * nsubq;
  const buf = takeBuffer(count * (nsubq + 1));
  try {
    const codes = buf.subarray(0, count * nsubq);
    const got = await file.readInto(at, codes);
    if (got < codes.length) throw new InputError('file ends inside the quantized codes', { file: file.name, offset: at + got, part });
    let normCodes: Uint8Array | undefined;
    if (m.qnorm) {
      normCodes = buf.subarray(count * nsubq, count * (nsubq + 1));
      const n = await file.readInto(m.normCodesOffset + start, normCodes);
      if (n < count) throw new InputError('file ends inside the norm codes', { file: file.name, offset: m.normCodesOffset + start + n, part });
    }
    const decode = (r: number): void => decodeCode(m.pq, codes, r * nsubq, normCodes ? m.norms![normCodes[r]!]! : 1, dst, outOffset + r * dim);
    if (only) {
      const first = start - only.base;
      let prev = -1;
      for (let i = 0; i < only.rows.length; i++) {
        const r = only.rows[i]! - first;
        if (r === prev) continue;
        if (r < 0 || r >= count) throw new RangeError(`row ${only.rows[i]! + only.base} outside the rows read [${start}, ${start + count})`);
        decode(r);
        prev = r;
      }
    } else {
      for (let r = 0; r < count; r++) decode(r);
    }
  } finally {
    if (buf.length <= KEEP_BUFFER_BYTES && freeBuffers.length < 4) freeBuffers.push(buf);
  }
  return dst;
}

/** The bytes of a product quantizer (head and centroids). */
export function encodeProductQuantizer(pq: ProductQuantizer): Buffer {
  if ((pq.nsubq - 1) * pq.dsub + pq.lastdsub !== pq.dim || pq.lastdsub < 1 || pq.lastdsub > pq.dsub) {
    throw new Error(`impossible quantizer: ${pq.nsubq} sub-quantizers of ${pq.dsub} dims (last ${pq.lastdsub}) for dimension ${pq.dim}`);
  }
  if (pq.centroids.length !== pq.dim * KSUB) throw new Error(`${pq.centroids.length} centroid values; a quantizer of dimension ${pq.dim} has ${pq.dim * KSUB}`);
  const head = Buffer.alloc(16);
  head.writeInt32LE(pq.dim, 0);
  head.writeInt32LE(pq.nsubq, 4);
  head.writeInt32LE(pq.dsub, 8);
  head.writeInt32LE(pq.lastdsub, 12);
  return Buffer.concat([head, Buffer.from(pq.centroids.buffer, pq.centroids.byteOffset, pq.centroids.length * 4)]);
}

export interface QuantMatrixInput {
  rows: number;
  /** rows x pq.nsubq codes. */
  codes: Uint8Array;
  pq: ProductQuantizer;
  /** With norm quantization: one code per row and the 256 norms they index. */
  normCodes?: Uint8Array;
  norms?: Float32Array;
}

/** The bytes of a quantized matrix (QuantMatrix). */
export function encodeQuantMatrix(q: QuantMatrixInput): Buffer {
  return Buffer.concat(quantMatrixParts(q));
}

/**
 * The bytes of a quantized matrix as consecutive parts; the codes and norm codes are views of the
 * caller's arrays (no copy: a huge model's codes are hundreds of MB).
 */
export function quantMatrixParts(q: QuantMatrixInput): Uint8Array[] {
  const codesize = q.rows * q.pq.nsubq;
  if (q.codes.length !== codesize) throw new Error(`${q.codes.length} codes; ${q.rows} rows x ${q.pq.nsubq} sub-quantizers need ${codesize}`);
  if (codesize > 0x7fffffff) throw new Error(`${codesize} bytes of codes exceed fastText's 32-bit code size`);
  const qnorm = q.normCodes !== undefined;
  if (qnorm && (q.normCodes!.length !== q.rows || !q.norms || q.norms.length !== KSUB)) {
    throw new Error(`norm quantization needs ${q.rows} norm codes and ${KSUB} norms`);
  }
  const head = Buffer.alloc(21);
  head[0] = qnorm ? 1 : 0;
  head.writeBigInt64LE(BigInt(q.rows), 1);
  head.writeBigInt64LE(BigInt(q.pq.dim), 9);
  head.writeInt32LE(codesize, 17);
  const parts: Uint8Array[] = [head, q.codes, encodeProductQuantizer(q.pq)];
  if (qnorm) {
    parts.push(q.normCodes!.subarray(0, q.rows));
    parts.push(encodeProductQuantizer({ dim: 1, nsubq: 1, dsub: 1, lastdsub: 1, centroids: q.norms! }));
  }
  return parts;
}

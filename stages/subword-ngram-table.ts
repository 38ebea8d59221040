/**
 * The distinct n-grams of a vocabulary that reach a subword plan's rows, held off the JavaScript
 * heap: a byte pool, per n-gram its offset, length and plan row, and chains of entries per key:
 * the n-gram's own table row (equal bytes always hash to the same row), compared byte for byte
 * (exact: no fingerprint can collide).
 *
 * N-grams are stored as finalfusion stores them: a fastText n-gram of a word that is not valid
 * UTF-8 becomes its canonical form (each invalid sequence replaced by U+FFFD, see
 * subwords/ngrams.ts canonicalWord); when two different raw n-grams become the same, the first
 * keeps its place and the later ones are counted in `skipped` (as writePrunedSubwordFifu does).
 *
 * Memory: pool bytes + 14 bytes per distinct n-gram + 4 bytes per table row.
 * Cost: per n-gram occurrence, a walk of its row's chain (usually one entry) with byte comparisons.
 */
import type { RunContext } from '../pipeline/context.js';
import { isValidUtf8 } from '../pipeline/words.js';
import { FastTextModel } from './formats/fasttext/index.js';
import { fasttextHash } from './subwords/fasttext-hash.js';
import { canonicalWord } from './subwords/ngrams.js';
import type { SubwordPlan } from './subword-collapse.js';
import { forEachVocabularyBatch } from './subword-usage.js';

export class NgramTable {
  private pool = new Uint8Array(1 << 20);
  private poolLength = 0;
  private offsets = new Uint32Array(1 << 16);
  private lengths = new Uint16Array(1 << 16);
  private rows = new Int32Array(1 << 16);
  /** Next entry of the same key (entry number + 1, 0 none). */
  private next = new Int32Array(1 << 16);
  /** First entry per key (entry number + 1, 0 none): keys are the model's hash buckets. */
  private heads: Int32Array;
  /**
   * Per key, a copy of its first entry (byte 0: length 1..15, 0 none, 255 longer; then the
   * bytes): the usual repeat of an n-gram is found in this one 16-byte record.
   */
  private firsts: Uint8Array;
  count = 0;
  /** Raw n-grams dropped because their canonical form repeats another n-gram's. */
  skipped = 0;

  /** @param keys size of the key space (n-grams with the same bytes always have the same key) */
  constructor(readonly keys: number) {
    this.heads = new Int32Array(Math.max(1, keys));
    this.firsts = new Uint8Array(Math.max(1, keys) * 16);
  }

  /** Bytes of every n-gram together. */
  get bytes(): number {
    return this.poolLength;
  }

  /** Bytes this table holds. */
  get memoryBytes(): number {
    return this.pool.byteLength + this.offsets.byteLength + this.lengths.byteLength + this.rows.byteLength + this.next.byteLength + this.heads.byteLength + this.firsts.byteLength;
  }

  /** Adds bytes[s, e) under `key` with plan row `row` unless present; returns whether it was added. */
  add(key: number, bytes: Uint8Array, s: number, e: number, row: number): boolean {
    const len = e - s;
    if (len > 0xffff) throw new RangeError(`an n-gram of ${len} bytes`);
    const f = this.firsts;
    const at = key * 16;
    const fl = f[at]!;
    if (fl === 0) {
      this.insert(key, bytes, s, len, row);
      return true;
    }
    if (fl === len && len <= 15) {
      let i = 0;
      while (i < len && f[at + 1 + i] === bytes[s + i]) i++;
      if (i === len) return false;
    }
    const pool = this.pool;
    for (let v = this.heads[key]!; v !== 0; v = this.next[v - 1]!) {
      const j = v - 1;
      if (this.lengths[j] !== len) continue;
      const o = this.offsets[j]!;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (pool[o + i] !== bytes[s + i]) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
    this.insert(key, bytes, s, len, row);
    return true;
  }

  private insert(key: number, bytes: Uint8Array, s: number, len: number, row: number): void {
    const j = this.count++;
    if (j === this.offsets.length) {
      const n = this.offsets.length * 2;
      this.offsets = grow(this.offsets, new Uint32Array(n));
      this.lengths = grow(this.lengths, new Uint16Array(n));
      this.rows = grow(this.rows, new Int32Array(n));
      this.next = grow(this.next, new Int32Array(n));
    }
    if (this.poolLength + len > this.pool.length) {
      const p = new Uint8Array(Math.max(this.pool.length * 2, this.poolLength + len));
      p.set(this.pool.subarray(0, this.poolLength));
      this.pool = p;
    }
    this.pool.set(bytes.subarray(s, s + len), this.poolLength);
    this.offsets[j] = this.poolLength;
    this.lengths[j] = len;
    this.rows[j] = row;
    this.poolLength += len;
    this.next[j] = this.heads[key]!;
    this.heads[key] = j + 1;
    const at = key * 16;
    if (this.firsts[at] === 0) {
      this.firsts[at] = len <= 15 ? len : 255;
      if (len <= 15) this.firsts.set(bytes.subarray(s, s + len), at + 1);
    }
  }

  /**
   * The entries grouped by plan row (rows ascending, entries of a row in insertion order):
   * `order` lists entry numbers, `rowsUsed` the plan rows that have at least one n-gram.
   * Memory: 4 bytes per entry and per plan row.
   */
  byRow(planRows: number): { order: Int32Array; rowsUsed: Int32Array } {
    const start = new Int32Array(planRows + 1);
    for (let j = 0; j < this.count; j++) start[this.rows[j]! + 1]!++;
    let used = 0;
    for (let r = 0; r < planRows; r++) {
      if (start[r + 1]! > 0) used++;
      start[r + 1]! += start[r]!;
    }
    const order = new Int32Array(this.count);
    for (let j = 0; j < this.count; j++) order[start[this.rows[j]!]!++] = j;
    const rowsUsed = new Int32Array(used);
    for (let r = 0, u = 0, prev = 0; r < planRows; r++) {
      // after the fill, start[r] is the end of row r
      if (start[r]! > prev) rowsUsed[u++] = r;
      prev = start[r]!;
    }
    return { order, rowsUsed };
  }

  /** Entry j: its bytes (a view of the pool), its plan row. */
  entry(j: number): { bytes: Uint8Array; row: number } {
    const o = this.offsets[j]!;
    return { bytes: this.pool.subarray(o, o + this.lengths[j]!), row: this.rows[j]! };
  }

  /** Releases the chains (after the last add). */
  freeze(): void {
    this.heads = new Int32Array(1);
    this.next = new Int32Array(1);
    this.firsts = new Uint8Array(16);
  }
}

function isAscii(w: string): boolean {
  for (let i = 0; i < w.length; i++) if (w.charCodeAt(i) >= 0x80) return false;
  return true;
}

function grow<T extends Uint32Array | Uint16Array | Int32Array>(a: T, b: T): T {
  b.set(a as never);
  return b;
}

/**
 * The distinct n-grams of every vocabulary word whose row the plan keeps (kept, remapped or null),
 * each with its plan row. Words are visited in file order, n-grams in the model's order.
 */
export async function collectPlanNgrams(ctx: RunContext, plan: SubwordPlan): Promise<NgramTable> {
  // n-grams with the same bytes share their table row: the row is the key of the chains
  const table = new NgramTable(plan.buckets);
  const ix = plan.indexer;
  const map = plan.rowMap;
  const rawInvalid = new Set<string>();
  const ft = ctx.model instanceof FastTextModel ? ctx.model : undefined;
  let valid = true;
  const add = (bytes: Uint8Array, s: number, e: number, row: number) => {
    if (row < 0) return;
    const r = map[row]!;
    if (r < 0) return;
    if (valid) {
      table.add(row, bytes, s, e, r);
      return;
    }
    const raw = Buffer.from(bytes.buffer, bytes.byteOffset + s, e - s).toString('latin1');
    if (rawInvalid.has(raw)) return;
    rawInvalid.add(raw);
    // the canonical form may be a valid n-gram of another row: look under the row its bytes hash to
    const c = Buffer.from(canonicalWord(raw), 'latin1');
    if (!table.add(keyOf(c), c, 0, c.length, r)) table.skipped++;
  };
  const keyOf = (c: Uint8Array): number => {
    if (ft) {
      const k = fasttextHash(c) % ft.indexer.buckets;
      const row = ft.indexer.prune ? (ft.indexer.prune.get(k) ?? -1) : k;
      if (row >= 0) return row;
    }
    return fasttextHash(c) % table.keys;
  };
  const visit = (row: number, _k: number, s: number, e: number, bytes: Uint8Array) => add(bytes, s, e, row);
  await forEachVocabularyBatch(
    ctx,
    (b) => {
      for (const w of b.words) {
        valid = isAscii(w) || isValidUtf8(Buffer.from(w, 'latin1'));
        if (ft) {
          ft.indexer.visit(w, visit);
        } else {
          // other subword vocabularies: their n-grams as strings
          for (const { ngram, index } of ix.ngrams(w)) {
            const bytes = Buffer.from(ngram, 'latin1');
            add(bytes, 0, bytes.length, index);
          }
        }
      }
    },
    false,
  );
  table.freeze();
  return table;
}

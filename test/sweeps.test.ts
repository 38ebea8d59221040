/**
 * Sweeps of n-gram rows (stages/formats/fasttext/sums.ts): helper threads give the same bits as one
 * thread; a pass's companion rows are kept for the last few batches only, and the collapse stage's
 * fallback computes the same rows.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { releaseBatch, type Batch } from '../pipeline/batch.js';
import { collect, drain } from '../pipeline/stream.js';
import { openSource, type Source } from '../pipeline/source.js';
import { COMPANION_DROP, COMPANION_ZERO, FastTextModel, openFastText } from '../stages/formats/fasttext/index.js';
import { RowSweeper } from '../stages/formats/fasttext/sums.js';
import { addKernel, addMemory, ngramAddModule } from '../stages/kernels/ngram-add.js';
import { fixture, HAVE_FIXTURES } from './helpers/fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('row-addition kernel', () => {
  test('the committed .wat and compiled module are what the scripts generate', () => {
    // fails when someone edits one without the other (the scripts exit 1 on a difference)
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/wasm/gen-ngram-add-wat.mjs'), '--check'], { stdio: 'pipe' });
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/wasm/build-ngram-add.mjs'), '--check'], { stdio: 'pipe' });
  });

  test('adds pairs in list order, also when the pairs of one group of the kernel share an accumulator', () => {
    expect(ngramAddModule()).not.toBeNull();
    const random = rng(11);
    // odd and multiple-of-4 dims; list lengths below, at and above the kernel's group of pairs
    for (const dim of [1, 3, 7, 8, 13, 300]) {
      for (const n of [1, 5, 8, 9, 17, 64, 203]) {
        const accs = 3; // few accumulators: a group lists the same one several times
        const srcs = 11;
        const memory = addMemory((accs + srcs) * dim * 4 + 8 * n);
        const f = new Float32Array(memory.buffer);
        const i32 = new Int32Array(memory.buffer);
        for (let i = 0; i < (accs + srcs) * dim; i++) f[i] = random() * 2 - 1;
        const want = Float32Array.from(f.subarray(0, accs * dim));
        const listOff = (accs + srcs) * dim * 4;
        for (let q = 0; q < n; q++) {
          const a = Math.floor(random() * accs);
          const r = Math.floor(random() * srcs);
          i32[listOff / 4 + q] = a * dim * 4;
          i32[listOff / 4 + n + q] = (accs + r) * dim * 4;
          for (let d = 0; d < dim; d++) want[a * dim + d] = Math.fround(want[a * dim + d]! + f[(accs + r) * dim + d]!);
        }
        addKernel(memory).addPairs(listOff, listOff + 4 * n, n, dim);
        const got = f.subarray(0, accs * dim);
        let same = true;
        for (let i = 0; i < want.length && same; i++) same = Object.is(got[i], want[i]);
        expect(same, `dim ${dim}, ${n} pairs`).toBe(true);
      }
    }
  });
});

describe('row sweeps', () => {
  // large enough for helpers (over 2^22 float additions), small enough to stay fast
  const T = 20_000;
  const dim = 100;
  const slots = 6_000;
  const per = 30;
  const random = rng(7);
  const table = Float32Array.from({ length: T * dim }, () => random() * 2 - 1);
  const rows = new Int32Array(slots * per);
  const starts = new Int32Array(slots + 1);
  for (let j = 0; j < slots; j++) {
    // uneven lists, repeats allowed
    const n = 1 + Math.floor(random() * (2 * per - 2));
    const k0 = starts[j]!;
    for (let k = 0; k < n && k0 + k < rows.length; k++) rows[k0 + k] = Math.floor(random() * T);
    starts[j + 1] = Math.min(rows.length, k0 + n);
  }
  const read = async (start: number, count: number, out: Float32Array, off: number) => out.set(table.subarray(start * dim, (start + count) * dim), off);

  /** Sums computed in JavaScript: each slot's rows added in ascending row order. */
  function reference(): Float32Array {
    const acc = new Float32Array(slots * dim);
    for (let j = 0; j < slots; j++) {
      const list = Array.from(rows.subarray(starts[j]!, starts[j + 1]!)).sort((a, b) => a - b);
      for (const r of list) for (let d = 0; d < dim; d++) acc[j * dim + d] = Math.fround(acc[j * dim + d]! + table[r * dim + d]!);
    }
    return acc;
  }

  test('helper threads add the same bits as one thread, and as a plain loop in row order', async () => {
    const want = reference();
    for (const threads of [1, 2, 3]) {
      const sw = new RowSweeper(T, dim, read, dim * 4, slots, threads);
      try {
        await sw.sweep(rows, starts, slots);
        expect(sw.helperThreads, `threads ${threads}`).toBe(threads - 1);
        const got = sw.acc(slots);
        let same = true;
        for (let i = 0; i < want.length && same; i++) same = Object.is(got[i], want[i]);
        expect(same, `threads ${threads}`).toBe(true);
        // a second, smaller sweep on the same memory starts from zero
        await sw.sweep(rows, starts.subarray(0, 11), 10);
        expect(Array.from(sw.acc(10))).toEqual(Array.from(want.subarray(0, 10 * dim)));
      } finally {
        await sw.close();
      }
    }
  });

  test('background sweeps (every addition on helpers) fill their own region only, with the same bits', async () => {
    const want = reference();
    const sw = new RowSweeper(T, dim, read, dim * 4, slots, 2, 2);
    try {
      await sw.sweep(rows, starts, slots, 0, true);
      const first = Float32Array.from(sw.acc(slots, 0));
      // the second region gets the slots in reverse order, while the first is left as it was
      const rev = new Int32Array(rows.length);
      const revStarts = new Int32Array(slots + 1);
      for (let j = 0; j < slots; j++) {
        const src = rows.subarray(starts[slots - 1 - j]!, starts[slots - j]!);
        rev.set(src, revStarts[j]!);
        revStarts[j + 1] = revStarts[j]! + src.length;
      }
      await sw.sweep(rev, revStarts, slots, 1, true);
      expect(sw.backgroundSweeps).toBe(2);
      const a = sw.acc(slots, 0);
      const b = sw.acc(slots, 1);
      let same = true;
      for (let i = 0; i < want.length && same; i++) same = Object.is(first[i], want[i]) && Object.is(a[i], want[i]);
      for (let j = 0; j < slots && same; j++) {
        for (let d = 0; d < dim && same; d++) same = Object.is(b[j * dim + d], want[(slots - 1 - j) * dim + d]);
      }
      expect(same).toBe(true);
    } finally {
      await sw.close();
    }
  });

  test('pairs are sorted by row, slots ascending within a row, whatever the radix passes a table needs', () => {
    const random = rng(3);
    // one, two and three passes of the radix sort; into given arrays and into the sweeper's own
    for (const tableRows of [5, 2048, 2049, 3_000_000, 5_000_000]) {
      const sw = new RowSweeper(tableRows, 4, read, 16, 10);
      const list: number[] = [];
      const bounds = [0];
      for (let j = 0; j < 3000; j++) {
        const n = Math.floor(random() * 30);
        for (let k = 0; k < n; k++) list.push(Math.floor(random() * tableRows));
        bounds.push(list.length);
      }
      const r = Int32Array.from(list);
      const st = Int32Array.from(bounds);
      const want: [number, number][] = [];
      for (let j = 0; j < 3000; j++) for (let p = st[j]!; p < st[j + 1]!; p++) want.push([r[p]!, j]);
      want.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const given = { pr: new Int32Array(r.length + 5), ps: new Int32Array(r.length + 5) };
      for (const got of [sw.sortPairs(r, st, 3000, given), sw.sortPairs(r, st, 3000)]) {
        expect(Array.from(got.pr), `${tableRows} rows`).toEqual(want.map((e) => e[0]));
        expect(Array.from(got.ps), `${tableRows} rows`).toEqual(want.map((e) => e[1]));
      }
    }
  });

  test('a small sweep does not start helpers', async () => {
    const sw = new RowSweeper(T, dim, read, dim * 4, slots, 2);
    await sw.sweep(rows, starts.subarray(0, 101), 100);
    expect(sw.helperThreads).toBe(0);
    expect(Array.from(sw.acc(100))).toEqual(Array.from(reference().subarray(0, 100 * dim)));
    await sw.close();
  });
});

describe.skipIf(!HAVE_FIXTURES)('companion rows of a pass', () => {
  const sources: Source[] = [];
  afterAll(async () => {
    for (const s of sources) await s.close();
  });

  test('a pass lends its batches vectors that come back once released, and refills them right', async () => {
    const s = await openSource(fixture('finalfusion', 'fasttext.bin'));
    sources.push(s);
    const m: FastTextModel = await openFastText(s, { memoryBytes: 4096 });
    // held batches (collect) keep their own arrays
    const held = await collect(m.pass({ batchRows: 8 }));
    expect(new Set(held.map((b) => b.vectors.buffer)).size).toBe(held.length);
    // released batches give their arrays back to the pass, which fills them again with the same rows
    const seen = new Set<ArrayBufferLike>();
    let k = 0;
    const same: boolean[] = [];
    await drain(
      m.pass({ batchRows: 8 }).map((b: Batch) => {
        same.push(b.vectors.length === held[k]!.vectors.length && b.vectors.every((x, i) => Object.is(x, held[k]!.vectors[i])));
        seen.add(b.vectors.buffer);
        releaseBatch(b);
        k++;
        return b;
      }),
    );
    expect(same.every(Boolean)).toBe(true);
    expect(k).toBe(held.length);
    expect(seen.size).toBe(1);
    await m.close();
  });

  test('are kept for the last batches only; companionsFor gives the same rows', async () => {
    const s = await openSource(fixture('finalfusion', 'fasttext.bin'));
    sources.push(s);
    const m: FastTextModel = await openFastText(s, { memoryBytes: 4096 });
    expect(m.tableResident).toBe(false);
    // a map that drops some rows, zeroes others, and moves the rest
    const map = new Int32Array(m.tableRows);
    for (let r = 0; r < map.length; r++) map[r] = r % 7 === 0 ? COMPANION_DROP : r % 5 === 0 ? COMPANION_ZERO : (r * 3) % map.length;
    m.passPlan = { companion: { map } };
    const batches = await collect(m.pass({ batchRows: 8 }));
    expect(batches.length).toBeGreaterThan(6);
    // the early batches' companions were reused by later batches; the last ones are there
    expect(m.companionOf(batches[0]!)).toBeUndefined();
    const last = batches[batches.length - 1]!;
    const kept = m.companionOf(last)!;
    expect(kept).toBeDefined();
    const again = await m.companionsFor(last.words, map);
    expect(Array.from(kept.used)).toEqual(Array.from(again.used));
    expect(Array.from(kept.vectors)).toEqual(Array.from(again.vectors));
    expect(kept.used.some((u) => u > 0)).toBe(true);
    m.passPlan = undefined;
    await m.close();
  });
});

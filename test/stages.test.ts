/** Stages used on their own, each fed a hand-built stream of two batches. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from './helpers/fixtures.js';
import type { Batch } from '../pipeline/batch.js';
import { createContext, type RunContext } from '../pipeline/context.js';
import type { ModelReader } from '../pipeline/model.js';
import { sourceFromBuffer } from '../pipeline/source.js';
import { collect, hl } from '../pipeline/stream.js';
import { rankStage } from '../stages/rank.js';
import { assignStage } from '../stages/assign.js';
import { serializeStage } from '../stages/serialize.js';
import { countsStage } from '../stages/counts.js';
import type { Capability, Stage } from '../pipeline/stage.js';

const dir = tmpDir();

function batches(): Batch[] {
  return [
    { start: 0, dim: 2, words: ['a', 'b'], vectors: new Float32Array([1, 0, 0, 1]) },
    { start: 2, dim: 2, words: ['c', 'd'], vectors: new Float32Array([2, 1, -1, 0.1]) },
  ];
}

async function context(): Promise<RunContext> {
  const ctx = createContext(await sourceFromBuffer(Buffer.from('hand-built')), { quiet: true, threads: 1 });
  ctx.model = {
    info: { format: 'hand', rows: 4, dim: 2, hasCounts: false },
    pass: () => hl(batches()),
    countRows: async () => 4,
    close: async () => {},
  } as ModelReader;
  return ctx;
}

async function through(stages: Stage[], ctx: RunContext, input: Batch[] = batches()): Promise<Batch[]> {
  const have = new Set<Capability>(['model']);
  for (const s of stages) {
    for (const c of (await s.open?.(ctx, have)) ?? []) have.add(c);
    for (const c of s.provides ?? []) have.add(c);
  }
  let st = hl(input);
  for (const s of stages) if (s.transform) st = s.transform(st, ctx);
  const out = await collect(st);
  for (const s of stages) await s.finish?.(ctx);
  return out;
}

describe('stages on their own', () => {
  it('rank (file order): the first N rows become the kept table, marked with score 1', async () => {
    const ctx = await context();
    const out = await through([rankStage({ keep: 2 })], ctx);
    expect(ctx.kept!.size).toBe(2);
    expect(ctx.kept!.labels).toEqual(['a', 'b']);
    expect(Array.from(out[0]!.target!)).toEqual([0, 1]);
    expect(Array.from(out[1]!.target!)).toEqual([-1, -1]);
  });

  it('assign: rows without a target get the nearest kept row by cosine', async () => {
    const ctx = await context();
    const out = await through([rankStage({ keep: 2 }), assignStage({ threads: 1 })], ctx);
    expect(Array.from(out[1]!.target!)).toEqual([0, 1]);
    expect(out[1]!.score![0]).toBeCloseTo(2 / Math.sqrt(5), 6);
    expect(out[1]!.score![1]).toBeCloseTo(0.1 / Math.hypot(1, 0.1), 6);
  });

  it('counts: attaches counts from a file to every pass (missing words 0)', async () => {
    const ctx = await context();
    const f = path.join(dir, 'c.tsv');
    fs.writeFileSync(f, 'd\t9\nb\t3\n');
    await countsStage({ file: f }).open!(ctx, new Set(['model']));
    const b = ctx.decorators.reduce((x, d) => d(x), batches()[1]!);
    expect(Array.from(b.counts!)).toEqual([0, 9]);
  });

  it('serialize: writes the rows it is given, each with its target row', async () => {
    const ctx = await context();
    const out = path.join(dir, 'o.txt');
    await through([rankStage({ keep: 2 }), assignStage({ threads: 1 }), serializeStage({ output: out, to: 'w2v-text', mapping: path.join(dir, 'm.tsv') })], ctx);
    expect(fs.readFileSync(out, 'latin1')).toBe('4 2\na 1 0\nb 0 1\nc 1 0\nd 0 1\n');
    expect(fs.readFileSync(path.join(dir, 'm.tsv'), 'latin1')).toBe('c\ta\t0.894427\nd\tb\t0.099504\n');
  });
});

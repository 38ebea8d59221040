import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { graphSchema } from '../cli/stage-options.js';
import { stageNames } from '../cli/registry.js';
import { applySets, checkGraph } from '../cli/graph-file.js';

const dir = tmpDir();
const EXAMPLE = path.join(ROOT, 'examples', 'gcide-small.vec');

function graphError(g: unknown): string {
  try {
    checkGraph(g, 'g.json');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('graph was accepted');
}

describe('graph files', () => {
  it('the shipped schema is the one generated from the stage option table', () => {
    const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'graph.schema.json'), 'utf8'));
    expect(shipped).toEqual(graphSchema(stageNames()));
  });

  it('errors name the key path: unknown stage, unknown option, wrong type, missing option', () => {
    const base = { input: 'x.vec', stages: [{ stage: 'parse' }, { stage: 'rank', keep: 10 }, { stage: 'assign' }, { stage: 'serialize', output: 'o', to: 'glove' }] };
    expect(graphError({ ...base, stages: [{ stage: 'parse' }, { stage: 'prune' }] })).toMatch(/stages\[1\]\.stage: must be one of "parse"/);
    expect(graphError({ ...base, stages: [{ stage: 'parse', form: 'glove' }] })).toBe('stages[0].form: unknown option (stage "parse")');
    expect(graphError({ ...base, stages: [{ stage: 'rank', keep: 'ten' }] })).toBe('stages[0].keep: must be integer (stage "rank")');
    expect(graphError({ ...base, stages: [{ stage: 'rank', keep: 0 }] })).toBe('stages[0].keep: must be >= 1 (stage "rank")');
    expect(graphError({ ...base, stages: [{ stage: 'serialize', output: 'o' }] })).toBe('stages[0].to: missing (stage "serialize")');
    expect(graphError({ stages: base.stages })).toBe('input: missing');
    expect(graphError({ ...base, extra: 1 })).toBe('extra: unknown option');
  });

  it('an impossible stage order fails before any work, naming the stage (exit 2)', () => {
    const g = path.join(dir, 'order.json');
    fs.writeFileSync(g, JSON.stringify({ input: EXAMPLE, stages: [{ stage: 'parse' }, { stage: 'assign' }, { stage: 'serialize', output: path.join(dir, 'o.txt'), to: 'glove' }] }));
    const r = runCli(['run', g]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('prune-pipe: stage "assign" needs a kept table (a rank, cover or k-means stage before it), which no earlier stage provides');
    expect(fs.existsSync(path.join(dir, 'o.txt'))).toBe(false);
  });

  it('a graph file error is exit 3 with the file named', () => {
    const g = path.join(dir, 'bad.json');
    fs.writeFileSync(g, '{"input": "x", "stages": [ {"stage": "parse"}, ]}');
    const r = runCli(['run', g]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/bad\.json:1 @ byte 47: not valid JSON: unexpected "\]"$/);
  });

  it('--set overrides options by stage name or index and is validated', () => {
    const g = { input: 'a', stages: [{ stage: 'parse' }, { stage: 'rank', keep: 10 }] };
    expect(applySets(g, ['rank.keep=20', 'input=b', '0.from=glove'])).toEqual({ input: 'b', stages: [{ stage: 'parse', from: 'glove' }, { stage: 'rank', keep: 20 }] });
    expect(() => applySets(g, ['rank.keep=x'])).toThrow(/stages\[1\]\.keep: must be integer/);
    expect(() => applySets(g, ['cover.keep=1'])).toThrow(/no stage "cover"/);
  });

  it('the graph printed by a prune run reproduces its output byte for byte', () => {
    const out1 = path.join(dir, 'direct.bin');
    const out2 = path.join(dir, 'via-graph.bin');
    const args = ['prune', EXAMPLE, '-o', out1, '--keep', '1500', '--mapping', path.join(dir, 'm1.tsv'), '-q'];
    expect(runCli(args).code).toBe(0);
    const printed = runCli([...args, '--print-graph']);
    expect(printed.code).toBe(0);
    const graph = JSON.parse(printed.stdout.toString());
    expect(fs.existsSync(path.join(dir, 'm1.tsv'))).toBe(true);
    const gfile = path.join(dir, 'printed.json');
    fs.writeFileSync(gfile, JSON.stringify(graph));
    const r = runCli(['run', gfile, '--set', `serialize.output=${out2}`, '--set', `serialize.mapping=${path.join(dir, 'm2.tsv')}`, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out2).equals(fs.readFileSync(out1))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'm2.tsv')).equals(fs.readFileSync(path.join(dir, 'm1.tsv')))).toBe(true);
  });

  it('every example graph runs as it is against the bundled model', () => {
    const graphs = fs.readdirSync(path.join(ROOT, 'examples', 'graphs')).filter((f) => f.endsWith('.json'));
    expect(graphs.length).toBeGreaterThanOrEqual(1);
    for (const g of graphs) {
      const cwd = tmpDir();
      fs.cpSync(path.join(ROOT, 'examples'), path.join(cwd, 'examples'), { recursive: true });
      const r = runCli(['run', path.join('examples', 'graphs', g), '-q'], { cwd });
      expect(r.code, `${g}: ${r.stderr}`).toBe(0);
      const spec = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'graphs', g), 'utf8'));
      for (const st of spec.stages) if (st.output) expect(fs.statSync(path.join(cwd, st.output)).size, g).toBeGreaterThan(0);
    }
  });
});

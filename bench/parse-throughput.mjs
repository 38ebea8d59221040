#!/usr/bin/env node
// Parsing throughput against raw reading of the same file: (1) read it and count newlines
// (`wc -l`-like, in this process), (2) one full pass of prune-pipe's reader (words and float rows),
// on one thread. Best of --repeat runs; the file is read once first so it is in the page cache.
// usage: node bench/parse-throughput.mjs FILE [--repeat 3] [--from FORMAT]
// Needs `npm run build`. Prints MB/s (1 MB = 1e6 bytes) and the parser's share of raw speed.
import fs from 'node:fs';
import { openSource } from '../dist/pipeline/source.js';
import { openModel } from '../dist/stages/formats/index.js';
import { drain } from '../dist/pipeline/stream.js';

const args = process.argv.slice(2);
const file = args[0];
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const repeat = Number(opt('--repeat', '3'));
const from = opt('--from', undefined);
const bytes = fs.statSync(file).size;

async function raw() {
  let lines = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    let i = -1;
    while ((i = chunk.indexOf(10, i + 1)) >= 0) lines++;
  }
  return lines;
}

async function parse() {
  const source = await openSource(file);
  const model = await openModel(source, from);
  let rows = 0;
  let sum = 0;
  await drain(
    model.pass({ batchRows: 2048 }).map((b) => {
      rows += b.words.length;
      sum += b.vectors[0] ?? 0;
      return b;
    }),
  );
  await model.close();
  await source.close();
  return { rows, format: model.info.format, dim: model.info.dim, sum };
}

async function best(fn) {
  let t = Infinity;
  let out;
  for (let i = 0; i < repeat; i++) {
    const c = process.cpuUsage();
    const w = performance.now();
    out = await fn();
    const wall = (performance.now() - w) / 1000;
    const u = process.cpuUsage(c);
    t = Math.min(t, wall);
    out = { ...(typeof out === 'object' ? out : { lines: out }), wall, cpu: (u.user + u.system) / 1e6 };
  }
  return { t, out };
}

await raw(); // into the page cache
const r = await best(raw);
const p = await best(parse);
const mb = bytes / 1e6;
console.log(`${file}: ${mb.toFixed(1)} MB, ${p.out.format}, ${p.out.rows} rows x ${p.out.dim}`);
console.log(`raw read + newline count: ${r.t.toFixed(3)} s, ${(mb / r.t).toFixed(0)} MB/s`);
console.log(`prune-pipe reader pass:    ${p.t.toFixed(3)} s, ${(mb / p.t).toFixed(0)} MB/s (${((r.t / p.t) * 100).toFixed(0)}% of raw; last run cpu ${p.out.cpu.toFixed(2)} s for ${p.out.wall.toFixed(2)} s wall)`);

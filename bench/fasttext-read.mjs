#!/usr/bin/env node
// Throughput of the fastText reader: open (header + dictionary), then one pass computing every
// word vector, with the n-gram rows resident and (optionally) streamed under a small budget.
// Build first (npm run build). Usage: node bench/fasttext-read.mjs MODEL.bin... [--memory BYTES]...
// (peak RSS is the process's: run one budget per process to see each one's.)
import { openSource } from '../dist/pipeline/source.js';
import { drain } from '../dist/pipeline/stream.js';
import { openFastText } from '../dist/stages/formats/fasttext/index.js';

const args = process.argv.slice(2);
const files = [];
const budgets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--memory') budgets.push(Number(args[++i]));
  else files.push(args[i]);
}
if (budgets.length === 0) budgets.push(undefined);

for (const file of files) {
  for (const memoryBytes of budgets) {
    const source = await openSource(file);
    const t0 = performance.now();
    const m = await openFastText(source, { memoryBytes });
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    let rows = 0;
    await drain(m.pass().map((b) => ((rows += b.words.length), b)));
    const t2 = performance.now();
    const c2 = process.cpuUsage(c1);
    await m.close();
    await source.close();
    const pass = (t2 - t1) / 1000;
    console.log(
      [
        file.split('/').pop(),
        `${m.nwords} words + ${m.tableRows} n-gram rows x ${m.dim}`,
        `${(source.size / 1e6).toFixed(1)} MB`,
        memoryBytes === undefined ? 'default budget' : `budget ${memoryBytes} B`,
        m.tableResident ? 'rows resident' : 'rows streamed',
        `open ${((t1 - t0) / 1000).toFixed(3)} s`,
        `pass ${pass.toFixed(3)} s wall, ${((c2.user + c2.system) / 1e6).toFixed(3)} s CPU`,
        `${Math.round(rows / pass).toLocaleString('en')} words/s`,
        `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
      ].join(' | '),
    );
  }
}

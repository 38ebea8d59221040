#!/usr/bin/env node
// Throughput of the fastText reader: open (header + dictionary), then one pass computing every
// word vector, with the n-gram rows resident and (optionally) streamed under a small budget.
// Build first (npm run build). Usage: node bench/fasttext-read.mjs MODEL.bin... [--memory BYTES]
import { openSource } from '../dist/pipeline/source.js';
import { drain } from '../dist/pipeline/stream.js';
import { openFastText } from '../dist/stages/formats/fasttext/index.js';

const args = process.argv.slice(2);
const files = [];
const budgets = [undefined];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--memory') budgets.push(Number(args[++i]));
  else files.push(args[i]);
}

for (const file of files) {
  for (const memoryBytes of budgets) {
    const source = await openSource(file);
    const t0 = performance.now();
    const m = await openFastText(source, { memoryBytes });
    const t1 = performance.now();
    let rows = 0;
    await drain(m.pass().map((b) => ((rows += b.words.length), b)));
    const t2 = performance.now();
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
        `pass ${pass.toFixed(3)} s`,
        `${Math.round(rows / pass).toLocaleString('en')} words/s`,
        `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
      ].join(' | '),
    );
  }
}

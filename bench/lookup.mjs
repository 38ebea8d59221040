// Lookup timings on one model: open (index build), 20,000 vectors in file order, 500 one by one at random, one similar pass.
// Usage: node bench/lookup.mjs MODEL (after npx tsc -p .)
import { openLookup, wordFromText } from '../dist/index.js';
const file = process.argv[2];
const t0 = performance.now();
const lk = await openLookup(file);
const t1 = performance.now();
const words = [...lk.words()];
const t2 = performance.now();
const b = await lk.vectors(words.slice(0, 20000));
const t3 = performance.now();
const rnd = []; let x = 1; for (let i = 0; i < 2000; i++) { x = (x * 1103515245 + 12345) >>> 0; rnd.push(words[x % words.length]); }
const t4 = performance.now();
for (const w of rnd.slice(0, 500)) await lk.vector(w);
const t5 = performance.now();
const s = await lk.similar(wordFromText('water'), 5);
const t6 = performance.now();
console.log(JSON.stringify({ file, format: lk.info.format, words: lk.size, open_s: +((t1 - t0) / 1000).toFixed(2), vectors_20000_in_order_s: +((t3 - t2) / 1000).toFixed(3), vector_500_random_one_by_one_s: +((t5 - t4) / 1000).toFixed(3), similar_s: +((t6 - t5) / 1000).toFixed(2), rss_mb: Math.round(process.memoryUsage().rss / 2**20), nn: s?.neighbours.map(n => n.word) }));
await lk.close();

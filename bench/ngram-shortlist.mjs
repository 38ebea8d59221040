// Speed of the n-gram index's shortlists (stages/kernels/ngram-candidates.ts) on one thread, on a
// fastText .bin: the first KEEP words are the kept ones, the queries COUNT words from row
// KEEP + SKIP. Prints microseconds per word for shortlists of 16, 64 and 256.
// usage: npm run build; node bench/ngram-shortlist.mjs MODEL.bin KEEP COUNT [SKIP] [MAX_POSTINGS]
import { openSource } from '../dist/pipeline/source.js';
import { openModel } from '../dist/stages/formats/index.js';
import { buildNgramIndex, NgramSearcher, readBucketWeights, NGRAM_MAX_POSTINGS } from '../dist/stages/kernels/ngram-candidates.js';
import { wordLists } from '../dist/stages/ngram-index.js';

const [file, keepS, countS, skipS, capS] = process.argv.slice(2);
if (!file || !keepS || !countS) throw new Error('usage: node bench/ngram-shortlist.mjs MODEL.bin KEEP COUNT [SKIP] [MAX_POSTINGS]');
const keep = +keepS;
const n = +countS;
const skip = +(skipS ?? 0);
const m = await openModel(await openSource(file));
const words = m.dictionary.words;
const sw = m.subwords;
// (norms 1: the scale then depends on the n-gram count only; the cost is the same)
const setup = buildNgramIndex(wordLists(sw, words, keep), keep, new Float32Array(keep).fill(1), sw.indexer.size, +(capS ?? NGRAM_MAX_POSTINGS));
await readBucketWeights(setup, (a, c) => sw.read(a, c), sw.dim);
const lists = wordLists(sw, words.slice(keep + skip, keep + skip + n), n);
let touched = 0;
for (const b of lists.rows) touched += setup.offsets[b + 1] - setup.offsets[b];
console.log(`${file}: ${keep} kept, ${n} words from row ${keep + skip}, ${(touched / n).toFixed(0)} postings per word before the cap of ${setup.maxPostings}`);
const s = new NgramSearcher(setup);
for (const k of [16, 64, 256, 64]) {
  const out = new Int32Array(n * k);
  const t = performance.now();
  s.shortlist(lists, n, k, out);
  console.log(`shortlist ${k}: ${(((performance.now() - t) / n) * 1000).toFixed(1)} us per word`);
}
await m.close();

// A custom pipeline built with the library API (run after `npm ci`: node examples/custom-pipeline.mjs OUT_DIR).
// Ranks the bundled model by a counts file made from text, keeps 1,000 words, maps the rest, and
// writes the kept rows as word2vec binary plus the word -> kept word mapping. Prints the summary.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assignStage, countsStage, createContext, openSource, parseStage, pipeline, rankStage, run, serializeStage,
} from 'prune-pipe';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? fs.mkdtempSync('/tmp/prune-pipe-example-');

// A counts file from a bit of text: how often each word of the text occurs.
const text = 'the cat sat on the mat and the dog sat on the log while the bird sang';
const counts = new Map();
for (const w of text.split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
const countsFile = path.join(out, 'counts.tsv');
fs.writeFileSync(countsFile, [...counts].map(([w, c]) => `${w}\t${c}`).join('\n') + '\n');

const source = await openSource(path.join(here, 'gcide-small.vec'));
try {
  const ctx = createContext(source, { quiet: true });
  const p = await pipeline(
    [
      parseStage(),
      countsStage({ file: countsFile }),
      rankStage({ keep: 1000, by: 'counts' }),
      assignStage(),
      serializeStage({ output: path.join(out, 'kept.bin'), to: 'w2v-bin', layout: 'kept', mapping: path.join(out, 'mapping.tsv') }),
    ],
    ctx,
  );
  const { report } = await run(p);
  console.log(JSON.stringify({ kept: report.kept, mapped: report.mapped, meanCosine: report.cosine?.mean, output: report.output }, null, 1));
} finally {
  await source.close();
}

/**
 * Top-N by counts from a fastText dictionary, without a pass over the vectors: the dictionary
 * holds every word's count, so the N most frequent words are chosen from it (after the run's
 * decorators, e.g. a counts file), and only their vectors are computed (FastTextModel.vectorsOfIds:
 * one sweep over the n-gram rows they use). Gives the kept table a pass over every row would give:
 * same words, same order (count descending, ties to the earlier row), same vectors bit for bit.
 *
 * Not used when the dictionary repeats a word (a pass drops the later copy and renumbers the rows;
 * fastText never writes such files): the caller falls back to its pass.
 * Memory: the N entries and their vectors. Cost: the dictionary's counts once, N x log N for the
 * heap, the vectors of N words.
 */
import type { RunContext } from '../pipeline/context.js';
import type { KeptTable } from '../pipeline/tables.js';
import { FastTextModel } from './formats/fasttext/index.js';
import { forEachVocabularyBatch } from './subword-usage.js';
import { TopByCount } from './top-counts.js';

/**
 * Fills `kept` with the top `kept.capacity` words by count and returns row -> kept index, or
 * undefined when the model is not a fastText dictionary this works on (the caller makes its pass).
 */
export async function selectByDictionaryCounts(ctx: RunContext, kept: KeptTable): Promise<Map<number, number> | undefined> {
  const model = ctx.model;
  if (!(model instanceof FastTextModel) || model.duplicateWords > 0) return undefined;
  const n = kept.capacity;
  const top = new TopByCount(n);
  let counted = true;
  await forEachVocabularyBatch(ctx, (b) => {
    const c = b.counts;
    if (!c) {
      counted = false;
      return;
    }
    for (let i = 0; i < b.words.length; i++) top.offer(c[i]!, b.start + i);
  });
  if (!counted) return undefined;
  const entries = top.ranked();
  const ids = Int32Array.from(entries, (e) => e.row);
  const dim = kept.dim;
  const map = new Map<number, number>();
  // in slices, so the vectors of a huge N are not all held twice (one slice, one sweep, up to 2^17)
  const SLICE = 1 << 17;
  for (let s = 0; s < entries.length; s += SLICE) {
    const part = ids.subarray(s, Math.min(entries.length, s + SLICE));
    const vectors = await model.vectorsOfIds(part);
    for (let k = 0; k < part.length; k++) {
      const e = entries[s + k]!;
      map.set(e.row, kept.add(model.dictionary.words[e.row]!, vectors.subarray(k * dim, (k + 1) * dim), e.row, e.count));
    }
  }
  kept.finish();
  return map;
}

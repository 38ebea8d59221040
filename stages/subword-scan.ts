/**
 * Subword-usage scan (stage 'subword-scan'): computes the n-gram buckets of every vocabulary word
 * (or of the kept words only) and counts how often each bucket is used, optionally weighted by the
 * word's count. Only counters are held (one per bucket), never the bucket rows.
 *
 * When the counting happens:
 *   words 'all'  before the streaming pass, from the word list alone (no vector is computed for a
 *                fastText dictionary or a finalfusion word list);
 *   words 'kept' before the streaming pass when the kept table is already decided (rank by counts,
 *                cover, k-means); otherwise (rank in file order) during the pass, as kept rows go
 *                by, and complete as soon as the kept table is.
 * Report (`report.subwords.scan`): buckets total, used, unused, and the bytes they take in the input.
 */
import type { Batch } from '../pipeline/batch.js';
import type { RunContext } from '../pipeline/context.js';
import { UsageError } from '../pipeline/errors.js';
import type { Stage } from '../pipeline/stage.js';
import { forEachVocabularyBatch, ngramRowBytes, SubwordUsage, USAGE_STATE, type ScanWords, type UsageWeights } from './subword-usage.js';

export interface SubwordScanOptions {
  /** 'all' (default): every vocabulary word; 'kept': only kept words. */
  words?: ScanWords;
  /** 'none' (default): an n-gram occurrence counts 1; 'counts': it counts the word's frequency. */
  weights?: UsageWeights;
}

export const SCAN_WORDS: readonly ScanWords[] = ['all', 'kept'];
export const USAGE_WEIGHTS: readonly UsageWeights[] = ['none', 'counts'];

/** Figures the scan adds to the report. */
export interface ScanReport {
  words: ScanWords;
  weights: UsageWeights;
  wordsScanned: number;
  ngramHits: number;
  buckets: number;
  used: number;
  unused: number;
  unusedShare: number;
  bytesPerBucket: number;
  usedBytes: number;
  unusedBytes: number;
}

export function subwordScanStage(opts: SubwordScanOptions = {}): Stage {
  const scope = opts.words ?? 'all';
  const weights = opts.weights ?? 'none';
  if (!SCAN_WORDS.includes(scope)) throw new UsageError(`stage "subword-scan": words must be all or kept, got "${String(scope)}"`);
  if (!USAGE_WEIGHTS.includes(weights)) throw new UsageError(`stage "subword-scan": weights must be none or counts, got "${String(weights)}"`);
  let usage: SubwordUsage | undefined;
  /** Kept rows that are words, known once the kept table is complete. */
  let keptWords = -1;
  let keptSeen = 0;

  const complete = (ctx: RunContext) => {
    const u = usage!;
    if (u.complete) return;
    u.finish();
    const rowBytes = ngramRowBytes(ctx.model!);
    const r: ScanReport = {
      words: scope,
      weights,
      wordsScanned: u.words,
      ngramHits: u.hits,
      buckets: u.buckets,
      used: u.used,
      unused: u.buckets - u.used,
      unusedShare: u.buckets ? Math.round(((u.buckets - u.used) / u.buckets) * 1e6) / 1e6 : 0,
      bytesPerBucket: rowBytes,
      usedBytes: u.used * rowBytes,
      unusedBytes: (u.buckets - u.used) * rowBytes,
    };
    const sw = (ctx.report.subwords ??= {}) as Record<string, unknown>;
    sw.scan = r;
  };

  return {
    name: 'subword-scan',
    needs: ['model'],
    provides: ['usage'],
    open(ctx, have) {
      if (!have.has('subwords') || !ctx.model?.subwords) {
        throw new UsageError(
          `stage "subword-scan": the input (${ctx.model?.info.format ?? 'unknown format'}) has no subword n-gram rows; subword options need a fastText .bin/.ftz or a finalfusion subword vocabulary`,
        );
      }
      if (scope === 'kept' && !have.has('kept')) throw new UsageError('stage "subword-scan": words "kept" needs a kept table (a rank, cover or k-means stage before it)');
      if (weights === 'counts' && !have.has('counts')) {
        throw new UsageError('stage "subword-scan": weights "counts" needs word counts (a counts file or a model with counts, such as a fastText .bin)');
      }
      usage = new SubwordUsage(ctx.model.subwords.indexer, scope, weights);
      ctx.state.set(USAGE_STATE, usage);
    },
    memory(ctx) {
      const rows = ctx.model?.subwords?.indexer.size ?? 0;
      return [{ what: 'subword usage counters', bytes: rows * (weights === 'counts' ? 8 : 4) }];
    },
    async prepare(ctx) {
      const u = usage!;
      if (scope === 'all') {
        await forEachVocabularyBatch(ctx, (b) => {
          for (let i = 0; i < b.words.length; i++) u.addWord(b.words[i]!, b.counts ? b.counts[i]! : 1);
        });
        complete(ctx);
        return;
      }
      const kept = ctx.kept!;
      if (!kept.complete) return; // counted during the pass
      if (weights === 'none') {
        for (let k = 0; k < kept.size; k++) if (kept.sourceRow[k]! >= 0) u.addWord(kept.labels[k]!);
      } else {
        // Counts as the vocabulary gives them (not every method stores counts in the kept table).
        const keptSet = new Set<string>();
        for (let k = 0; k < kept.size; k++) if (kept.sourceRow[k]! >= 0) keptSet.add(kept.labels[k]!);
        await forEachVocabularyBatch(ctx, (b) => {
          for (let i = 0; i < b.words.length; i++) if (keptSet.delete(b.words[i]!)) u.addWord(b.words[i]!, b.counts ? b.counts[i]! : 1);
        });
      }
      complete(ctx);
    },
    transform(input, ctx) {
      if (usage!.complete) return input;
      const u = usage!;
      const kept = ctx.kept!;
      return input.map((b: Batch) => {
        if (u.complete || !b.target) return b;
        for (let i = 0; i < b.words.length; i++) {
          const t = b.target[i]!;
          if (t >= 0 && kept.sourceRow[t] === b.start + i) {
            u.addWord(b.words[i]!, b.counts ? b.counts[i]! : 1);
            keptSeen++;
          }
        }
        // Earlier stages may run ahead of this one: complete only when every kept word was seen.
        if (kept.complete) {
          if (keptWords < 0) {
            keptWords = 0;
            for (let k = 0; k < kept.size; k++) if (kept.sourceRow[k]! >= 0) keptWords++;
          }
          if (keptSeen >= keptWords) complete(ctx);
        }
        return b;
      });
    },
    async finish(ctx) {
      complete(ctx);
    },
  };
}

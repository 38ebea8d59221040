/**
 * Parse: detects the format (or takes `from`), opens the reader (headers are validated against
 * the file size here, before anything is allocated) and streams the rows as batches.
 */
import { openPass } from '../pipeline/context.js';
import type { Capability, Stage } from '../pipeline/stage.js';
import { openModel } from './formats/index.js';

export interface ParseOptions {
  /** Input format name; detected from content when absent. */
  from?: string;
  /**
   * Bytes the reader may hold for rows it reads on demand (fastText: n-gram rows held in memory
   * when they fit, else sums computed in sweeps; default 512 MiB). Results do not depend on it.
   */
  memory?: number;
}

export function parseStage(opts: ParseOptions = {}): Stage {
  return {
    name: 'parse',
    async open(ctx) {
      const model = await openModel(ctx.source, opts.from, { threads: ctx.options.threads, ...(opts.memory !== undefined ? { memoryBytes: opts.memory } : {}) });
      ctx.model = model;
      const rows = model.info.rows ?? (await model.countRows());
      ctx.report.input = {
        file: ctx.source.name,
        format: model.info.format,
        bytes: ctx.source.size,
        rows,
        dim: model.info.dim,
        duplicates: 0,
      };
      const caps: Capability[] = ['model'];
      if (model.info.hasCounts) caps.push('counts');
      if (model.subwords) caps.push('subwords');
      return caps;
    },
    memory(ctx) {
      return [{ what: 'duplicate-word fingerprints', bytes: ctx.report.input.rows * 16 * 2 }];
    },
    transform(_input, ctx) {
      return openPass(ctx, 'read');
    },
  };
}

/**
 * `--quantize pq` and the `--pq-*` options of `prune` (docs/quantization.md), and the
 * serialize-stage option they become. `--to ftz` is always product-quantized.
 */
import type { Argv } from 'yargs';
import { UsageError } from '../../pipeline/errors.js';
import { DEFAULT_PQ_ITERATIONS, DEFAULT_PQ_SAMPLE } from '../../stages/pq-quantize.js';
import { QUANTIZE_METHODS, type QuantizeOptions } from '../../stages/serialize-quantized.js';

export interface QuantizeArgs {
  quantize?: string;
  pqDsub?: number;
  pqSubquantizers?: number;
  pqQnorm?: boolean;
  pqSample?: number;
  pqIterations?: number;
  pqCompensate?: boolean;
  pqVerify?: boolean;
}

export function quantizeOptions<T>(y: Argv<T>) {
  return y
    .option('quantize', {
      type: 'string',
      choices: [...QUANTIZE_METHODS],
      describe: 'store the output product-quantized (fifu: a QuantizedArray; --to ftz is always quantized)',
    })
    .option('pq-dsub', { type: 'number', describe: 'dims per sub-vector, one byte of code each (default 2, as fastText)' })
    .option('pq-subquantizers', { type: 'number', describe: 'number of sub-quantizers instead of --pq-dsub (finalfusion: must divide the dimension)' })
    .option('pq-qnorm', {
      type: 'boolean',
      describe: 'quantize unit-length rows and keep the norms apart (ftz: 256 norm levels, as fastText -qnorm; fifu: exact norms); default on, --no-pq-qnorm to turn off',
    })
    .option('pq-sample', { type: 'number', describe: `rows the quantizer is trained on (default ${DEFAULT_PQ_SAMPLE})` })
    .option('pq-iterations', { type: 'number', describe: `k-means steps per sub-quantizer (default ${DEFAULT_PQ_ITERATIONS})` })
    .option('pq-compensate', {
      type: 'boolean',
      describe: 'ftz: each kept word\'s input row absorbs the error of its n-gram rows, so fastText gives kept words their original vector up to one row\'s quantization (default true; --no-pq-compensate stores the source rows)',
    })
    .option('pq-verify', { type: 'boolean', describe: 'after writing, compare every word with what the written file gives it (one more pass; default true)' });
}

/** Whether any --pq-* option was given. */
function anyPq(a: QuantizeArgs): boolean {
  return [a.pqDsub, a.pqSubquantizers, a.pqQnorm, a.pqSample, a.pqIterations, a.pqCompensate, a.pqVerify].some((v) => v !== undefined);
}

/** The serialize stage's `quantize` option, or undefined for an output that is not quantized. */
export function quantizeSpec(a: QuantizeArgs, to: string): QuantizeOptions | undefined {
  if (a.quantize === undefined && to !== 'ftz') {
    if (anyPq(a)) throw new UsageError('the --pq-* options need --quantize pq (or --to ftz)');
    return undefined;
  }
  const q: QuantizeOptions = { method: a.quantize ?? 'pq' };
  if (a.pqDsub !== undefined) q.dsub = a.pqDsub;
  if (a.pqSubquantizers !== undefined) q.subquantizers = a.pqSubquantizers;
  if (a.pqQnorm !== undefined) q.qnorm = a.pqQnorm;
  if (a.pqSample !== undefined) q.sample = a.pqSample;
  if (a.pqIterations !== undefined) q.iterations = a.pqIterations;
  if (a.pqCompensate !== undefined) q.compensate = a.pqCompensate;
  if (a.pqVerify !== undefined) q.verify = a.pqVerify;
  return q;
}

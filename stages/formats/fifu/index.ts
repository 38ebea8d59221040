/**
 * The finalfusion codec ('fifu'): registers the format and gathers the reader and writers.
 * One module per chunk kind (header, simple-vocab, bucket-vocab, explicit-vocab, ndarray,
 * quantized, norms, metadata) holds that chunk's read and write side.
 */
import type { ModelReader } from '../../../pipeline/model.js';
import { registerFormat, type FormatCodec } from '../registry.js';
import { MAGIC } from './header.js';
import { openFifu } from './reader.js';

export const fifuCodec: FormatCodec = {
  randomAccess: true,
  name: 'fifu',
  description: "finalfusion: 'FiFu' chunks (simple, bucket, fastText and explicit subword vocabularies; dense or quantized storage)",
  detect(head) {
    return head.length >= 4 && head.subarray(0, 4).toString('latin1') === MAGIC ? 2 : 0;
  },
  // Passes give the vectors before normalisation (rows x NdNorms), so pruning and conversion keep
  // the original norms; files without norms give their stored rows.
  open: (source): Promise<ModelReader> => openFifu(source, { unnormalize: true }),
};

registerFormat(fifuCodec);

export { openFifu, type FifuReader, type FifuOpenOptions } from './reader.js';
export { toToml, type TomlTable, type TomlValue } from './metadata.js';
export { encodeQuantizedArray, type QuantizedArrayData, type RowQuantizer } from './quantized.js';
export {
  FifuWriter,
  FifuRowWriter,
  writePrunedFifu,
  writePrunedSubwordFifu,
  type FifuWriterOptions,
  type FifuWriteResult,
  type PrunedFifuInput,
  type PrunedFifuResult,
  type PrunedSubwordFifuInput,
  type PrunedLayout,
  type Utf8Policy,
} from './writer.js';

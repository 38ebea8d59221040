/**
 * fastText `.bin` / `.ftz` codec: registers the 'fasttext' format and exports the reader's API.
 * Detection: the magic number (certain), or an old-layout file whose arguments and dictionary
 * header are all plausible (likely).
 */
import type { Source } from '../../../pipeline/source.js';
import { registerFormat, type FormatCodec, type OpenOptions } from '../registry.js';
import { detectLayout } from './header.js';
import { openFastText, type FastTextOptions } from './reader.js';

export { openFastText, FastTextModel, DEFAULT_MEMORY_BYTES, COMPANION_DROP, COMPANION_ZERO } from './reader.js';
export type { FastTextOptions, FastTextLayoutInfo, MatrixLayout, FastTextPassPlan, CompanionRows } from './reader.js';
export { FastTextBinIndexer, EOS } from './indexer.js';
export { FASTTEXT_MAGIC, FASTTEXT_VERSION } from './header.js';
export type { FastTextArgs, FastTextHeader, FastTextLayout } from './header.js';
export type { FastTextDictionary } from './dictionary.js';
export type { DenseLayout } from './dense.js';
export type { QuantLayout, ProductQuantizer, QuantMatrixInput } from './quantized.js';
export { KSUB, encodeQuantMatrix } from './quantized.js';
export { encodeDictionary, type DictionaryInput } from './dictionary.js';
export { encodeHeader } from './header.js';
export { writeFtz, type FtzInput } from './writer.js';

export const fasttextCodec: FormatCodec = {
  randomAccess: true,
  name: 'fasttext',
  description: 'fastText .bin/.ftz model (format 11/12, and the older layout without a magic number): words with counts and subword n-gram rows',
  detect(head: Buffer): number {
    return detectLayout(head);
  },
  open: (source: Source, opts?: OpenOptions & FastTextOptions) => openFastText(source, opts),
};

registerFormat(fasttextCodec);

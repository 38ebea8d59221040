/**
 * Lookups on any supported model, pruned or not: `openLookup(path, { from?, mapping? })`.
 * See lookup.ts for what is held in memory and where each vector comes from.
 */
export {
  openLookup,
  lookupFromSource,
  openLookupReader,
  Lookup,
  SOURCE_NONE,
  SOURCE_VOCAB,
  SOURCE_MAPPED,
  SOURCE_SUBWORDS,
  type LookupOptions,
  type LookupVector,
  type LookupBatch,
  type Neighbour,
  type SimilarResult,
  type PrunedInfo,
  type VectorSource,
} from './lookup.js';
export { readMappingFile, type MappedWord } from './mapping.js';

/**
 * mnemonist's binary heap alone. The package's ESM entry loads every structure it has (about 80 ms
 * at start-up, a few percent of a small run); its subpath modules are CommonJS only, so the heap
 * module is required directly.
 */
import { createRequire } from 'node:module';
import type { Heap as HeapClass } from 'mnemonist';

export const Heap = createRequire(import.meta.url)('mnemonist/heap') as typeof HeapClass;
export type Heap<T> = HeapClass<T>;

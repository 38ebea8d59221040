/**
 * highland glue: typed aliases and the few helpers the engine needs (async generators, promises,
 * draining a stream to its end with errors surfaced).
 */
import _ from 'highland';
import { Readable } from 'node:stream';

export type Stream<T> = Highland.Stream<T>;
export const hl = _;

/** A highland stream over an async generator (highland cannot consume async iterators itself). */
export function fromAsync<T>(gen: AsyncIterable<T>): Stream<T> {
  return _<T>(Readable.from(gen, { objectMode: true, highWaterMark: 2 }) as unknown as NodeJS.ReadableStream);
}

/** A one-item stream resolving a promise (for async per-batch work with backpressure: flatMap). */
export function fromPromise<T>(p: Promise<T>): Stream<T> {
  return _(p);
}

/** Consumes a stream to its end; rejects on the first error. */
export function drain<T>(s: Stream<T>): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    s.stopOnError((e) => {
      failed = true;
      reject(e);
    }).done(() => {
      if (!failed) resolve();
    });
  });
}

/** Collects a stream into an array (small streams only: tests and tiny models). */
export function collect<T>(s: Stream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    let failed = false;
    s.stopOnError((e) => {
      failed = true;
      reject(e);
    })
      .each((x) => {
        out.push(x);
      })
      .done(() => {
        if (!failed) resolve(out);
      });
  });
}

/**
 * The N most frequent rows of a pass, chosen as the rows stream by: a top-N heap on (count, row),
 * ties to the earlier row. What goes with a row (word, vector, ...) is the caller's to store, in
 * N slots: a row that enters the top N takes a free slot, or the slot of the row it pushes out.
 * Used by rank (top-N by counts), cover (candidates), kmeans (force-kept rows) and the fastText
 * dictionary shortcut, so they all pick the same rows in the same order.
 * Memory: N heap entries. Cost: O(log N) per row that enters, one comparison for the others.
 */
import { Heap } from './heap.js';

export interface TopEntry {
  count: number;
  row: number;
  /** The caller's storage slot, in [0, capacity). */
  slot: number;
}

/** Worst entry first: lower count, then later row. */
function worstFirst(a: TopEntry, b: TopEntry): number {
  if (a.count !== b.count) return a.count < b.count ? -1 : 1;
  return b.row - a.row;
}

export class TopByCount {
  private readonly heap = new Heap<TopEntry>(worstFirst);
  private free = 0;
  /** The entry the last accepted offer pushed out (undefined when it took a free slot). */
  evicted: TopEntry | undefined;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.heap.size;
  }

  /**
   * Offers `row` with `count`: returns the slot its data goes to (a free one, or that of `evicted`,
   * whose data the caller reads before overwriting), or -1 when the row does not rank.
   */
  offer(count: number, row: number): number {
    const e: TopEntry = { count, row, slot: -1 };
    if (this.heap.size < this.capacity) {
      e.slot = this.free++;
      this.heap.push(e);
      this.evicted = undefined;
      return e.slot;
    }
    if (this.capacity > 0 && worstFirst(e, this.heap.peek()!) > 0) {
      const out = this.heap.replace(e)!;
      e.slot = out.slot;
      this.evicted = out;
      return e.slot;
    }
    return -1;
  }

  /** The entries in rank order: count descending, ties to the earlier row. */
  ranked(): TopEntry[] {
    return this.heap.toArray().sort((a, b) => -worstFirst(a, b));
  }
}

/**
 * The streaming side of the stages that choose their kept rows before the pass (rank by counts,
 * cover, kmeans): every row kept as itself gets its kept-table row as target, score 1; the other
 * rows are left for the next stage (assign) to map. Cost: one map lookup per row.
 */
import type { Batch } from '../pipeline/batch.js';
import { withAssignment } from '../pipeline/batch.js';
import type { Stream } from '../pipeline/stream.js';

/** `rowToKept`: input row -> kept-table row, complete when the stream starts. */
export function markKeptRows(input: Stream<Batch>, rowToKept: ReadonlyMap<number, number>): Stream<Batch> {
  return input.map((b: Batch) => {
    const a = withAssignment(b);
    if (rowToKept.size === 0) return b;
    for (let i = 0; i < b.words.length; i++) {
      const k = rowToKept.get(b.start + i);
      if (k !== undefined) {
        a.target[i] = k;
        a.score[i] = 1;
      }
    }
    return b;
  });
}

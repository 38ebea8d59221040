/** Running the Debian `fasttext` binary on a model: word vectors and nearest neighbours. */
import { spawnSync } from 'node:child_process';

/** `fasttext print-word-vectors MODEL < words` (byte-string words, one per line). */
export function fasttextVectors(model: string, words: readonly string[]): Map<string, number[]> {
  const r = spawnSync('fasttext', ['print-word-vectors', model], { input: Buffer.from(words.join('\n') + '\n', 'latin1'), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`fasttext print-word-vectors ${model} failed: ${r.stderr.toString()}`);
  const out = new Map<string, number[]>();
  for (const line of r.stdout.toString('latin1').split('\n')) {
    if (!line) continue;
    const parts = line.split(' ').filter((p) => p !== '');
    out.set(parts[0]!, parts.slice(1).map(Number));
  }
  return out;
}

/** `fasttext nn MODEL K < queries`: for each query, its K neighbours with their cosine, in order. */
export function fasttextNN(model: string, queries: readonly string[], k = 10): { word: string; score: number }[][] {
  const r = spawnSync('fasttext', ['nn', model, String(k)], { input: Buffer.from(queries.join('\n') + '\n', 'latin1'), maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`fasttext nn ${model} failed: ${r.stderr.toString()}`);
  const chunks = r.stdout.toString('latin1').split('Query word? ').slice(1);
  return chunks.slice(0, queries.length).map((c) =>
    c
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const p = l.trim().split(' ');
        return { word: p[0]!, score: Number(p[1]) };
      }),
  );
}

/**
 * Largest gap between our values and fastText's printed ones beyond the print precision
 * (5 significant digits), and the largest plain difference among values below 1 in magnitude
 * (where 5 significant digits resolve 1e-5).
 */
export function printedGap(ours: ArrayLike<number>, printed: readonly number[]): { beyondPrint: number; maxAbsBelow1: number; maxAbs: number } {
  let beyondPrint = 0;
  let maxAbsBelow1 = 0;
  let maxAbs = 0;
  for (let d = 0; d < printed.length; d++) {
    const t = printed[d]!;
    const diff = Math.abs(ours[d]! - t);
    const e = t === 0 ? -10 : Math.floor(Math.log10(Math.abs(t)));
    beyondPrint = Math.max(beyondPrint, diff - 0.5 * 10 ** (e - 4));
    if (Math.abs(t) < 1) maxAbsBelow1 = Math.max(maxAbsBelow1, diff);
    maxAbs = Math.max(maxAbs, diff);
  }
  return { beyondPrint, maxAbsBelow1, maxAbs };
}

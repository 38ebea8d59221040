/** Output format from --to, else from the output name's extension, else the input's. */
import path from 'node:path';

export function guessOutputFormat(output: string, to: string | undefined, inputFormat?: string): string {
  if (to) return to;
  const ext = path.extname(output.replace(/\.gz$/, '')).toLowerCase();
  switch (ext) {
    case '.bin':
    case '.w2v':
      return 'w2v-bin';
    case '.txt':
    case '.vec':
      return 'w2v-text';
    case '.fifu':
      return 'fifu';
    case '.ftz':
      return 'ftz';
  }
  if (inputFormat === 'w2v-bin' || inputFormat === 'w2v-text' || inputFormat === 'glove') return inputFormat;
  return 'w2v-text';
}

/** The human summary printed at the end of a run (stderr) and the JSON report. */
import fs from 'node:fs';
import { CosineStats, reportJSON, type Report } from '../pipeline/report.js';
import { formatSeconds } from '../pipeline/progress.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${u[i]}`;
}

function cos(s: CosineStats | undefined): string {
  if (!s || s.n === 0) return 'none';
  return `mean ${s.mean.toFixed(4)} (frequency-weighted ${s.weightedMean.toFixed(4)}), min ${s.min.toFixed(4)}, p5 ${s.quantile(0.05).toFixed(4)}`;
}

export function summaryLines(r: Report): string[] {
  const lines = [`input   ${r.input.file} (${r.input.format}, ${r.input.rows} rows x ${r.input.dim}, ${formatBytes(r.input.bytes)})`];
  if (r.kept !== undefined) lines.push(`kept    ${r.kept} rows${r.method ? ` (${r.method})` : ''}; mapped ${r.mapped ?? 0} words`);
  if (r.cosine) lines.push(`cosine  mapped words: ${cos(r.cosine)}`);
  if (r.cosineAll && r.cosineAll.n) lines.push(`cosine  all words: mean ${r.cosineAll.mean.toFixed(4)} (frequency-weighted ${r.cosineAll.weightedMean.toFixed(4)})`);
  if (r.output) lines.push(`output  ${r.output.file} (${r.output.format}, ${r.output.layout}, ${r.output.rows} rows, ${formatBytes(r.output.bytes)})`);
  lines.push(`time    ${formatSeconds(r.seconds ?? 0)} (${(r.seconds ?? 0).toFixed(2)} s), peak RSS ${formatBytes(r.peakRssBytes ?? 0)}`);
  return lines;
}

export async function writeReport(file: string, r: Report): Promise<void> {
  await fs.promises.writeFile(file, reportJSON(r) + '\n');
}

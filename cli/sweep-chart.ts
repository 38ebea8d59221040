/**
 * The sweep chart: quality against model size as a standalone SVG, two panels side by side
 * (mean cosine to the original vectors; word-pair Spearman with the original's as a dashed
 * reference line; the second only when there are pair scores), one polyline per method in each,
 * with axes, units, legend and title.
 * Plain SVG 1.1 (no scripts, no CSS), so rsvg-convert and browsers draw it alike.
 */

export interface ChartPoint {
  method: string;
  keep: number;
  /** Output size in bytes. */
  bytes: number;
  meanCosine: number;
  p5Cosine: number;
  spearman?: number;
}

export interface ChartInput {
  title: string;
  subtitle?: string;
  points: ChartPoint[];
  /** Spearman of the original model on the same pairs (reference line). */
  originalSpearman?: number;
  /** Name of the pairs file, for the axis title. */
  pairsName?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond'] as const;

const W = 1000;
const H = 530;
const PANEL_W = 400;
const PANEL_H = 320;
const TOP = 122;
const LEFTS = [90, 580];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round-number ticks from at or below `lo` to at or above `hi` (about `n` steps). */
export function niceTicks(lo: number, hi: number, n = 6): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 0.1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  // Multiply from integers so that tick values print without float noise.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  for (let i = first; i <= last; i++) out.push(Number((i * step).toFixed(digits)));
  return out;
}

/** The size unit that keeps the largest size between 1 and 1024. */
export function sizeUnit(maxBytes: number): { name: string; div: number } {
  if (maxBytes >= 1024 ** 3) return { name: 'GiB', div: 1024 ** 3 };
  if (maxBytes >= 1024 ** 2) return { name: 'MiB', div: 1024 ** 2 };
  if (maxBytes >= 1024) return { name: 'KiB', div: 1024 };
  return { name: 'bytes', div: 1 };
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1).replace(/\.0$/, '');
  return String(Math.round(x * 1000) / 1000);
}

function marker(kind: (typeof MARKERS)[number], x: number, y: number, color: string): string {
  const r = 4.5;
  switch (kind) {
    case 'circle':
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
    case 'square':
      return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case 'triangle':
      return `<polygon points="${x.toFixed(1)},${(y - r - 1).toFixed(1)} ${(x - r - 1).toFixed(1)},${(y + r).toFixed(1)} ${(x + r + 1).toFixed(1)},${(y + r).toFixed(1)}" fill="${color}"/>`;
    case 'diamond':
      return `<polygon points="${x.toFixed(1)},${(y - r - 1).toFixed(1)} ${(x - r - 1).toFixed(1)},${y.toFixed(1)} ${x.toFixed(1)},${(y + r + 1).toFixed(1)} ${(x + r + 1).toFixed(1)},${y.toFixed(1)}" fill="${color}"/>`;
  }
}

interface Panel {
  id: string;
  title: string;
  yTitle: string;
  value: (p: ChartPoint) => number | undefined;
  reference?: { value: number; label: string };
}

export function sweepChartSvg(input: ChartInput): string {
  const methods = [...new Set(input.points.map((p) => p.method))];
  const sizes = input.points.map((p) => p.bytes);
  const unit = sizeUnit(Math.max(1, ...sizes));
  let xlo = Math.min(...sizes) / unit.div;
  let xhi = Math.max(...sizes) / unit.div;
  const xt = niceTicks(xlo, xhi);
  xlo = Math.min(xlo, xt[0]!);
  xhi = Math.max(xhi, xt[xt.length - 1]!);
  const pairs = input.pairsName ?? 'word pairs';
  const allPanels: Panel[] = [
    { id: 'cosine', title: 'Mean cosine, pruned vs original vector', yTitle: 'mean cosine over all words (1 = unchanged)', value: (p) => p.meanCosine },
    {
      id: 'spearman',
      title: `${pairs}: Spearman correlation`,
      yTitle: 'Spearman ρ with human scores',
      value: (p) => p.spearman,
      ...(input.originalSpearman !== undefined && Number.isFinite(input.originalSpearman) ? { reference: { value: input.originalSpearman, label: 'original model' } } : {}),
    },
  ];
  // Without pair correlations (no pairs file) only the cosine panel is drawn, centred.
  const panels = allPanels.filter((p) => input.points.some((x) => Number.isFinite(p.value(x) ?? NaN)));
  const lefts = panels.length === 1 ? [(W - PANEL_W) / 2 + 20] : LEFTS;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="13">`,
  );
  out.push(`<title>${esc(input.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="32" text-anchor="middle" font-size="19" font-weight="bold">${esc(input.title)}</text>`);
  if (input.subtitle) out.push(`<text x="${W / 2}" y="56" text-anchor="middle" font-size="13" fill="#444">${esc(input.subtitle)}</text>`);

  // Legend, one entry per method, centred under the subtitle.
  const legendW = methods.length * 130;
  let lx = W / 2 - legendW / 2;
  out.push(`<g class="legend">`);
  methods.forEach((m, i) => {
    const c = COLORS[i % COLORS.length]!;
    out.push(`<line x1="${lx}" y1="76" x2="${lx + 34}" y2="76" stroke="${c}" stroke-width="2.5"${DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : ''}/>`);
    out.push(marker(MARKERS[i % MARKERS.length]!, lx + 17, 76, c));
    out.push(`<text x="${lx + 42}" y="81">${esc(m)}</text>`);
    lx += 130;
  });
  out.push(`</g>`);

  panels.forEach((panel, pi) => {
    const left = lefts[pi]!;
    const vals = input.points.map(panel.value).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (panel.reference) vals.push(panel.reference.value);
    let ylo = vals.length ? Math.min(...vals) : 0;
    let yhi = vals.length ? Math.max(...vals) : 1;
    const pad = Math.max((yhi - ylo) * 0.08, 0.005);
    ylo -= pad;
    yhi += pad;
    const yt = niceTicks(ylo, yhi, 5);
    ylo = Math.min(ylo, yt[0]!);
    yhi = Math.max(yhi, yt[yt.length - 1]!);
    const X = (v: number) => left + ((v - xlo) / (xhi - xlo || 1)) * PANEL_W;
    const Y = (v: number) => TOP + PANEL_H - ((v - ylo) / (yhi - ylo || 1)) * PANEL_H;
    out.push(`<g class="panel" id="panel-${panel.id}">`);
    out.push(`<text x="${left + PANEL_W / 2}" y="${TOP - 12}" text-anchor="middle" font-size="14" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<rect x="${left}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
    // Grid and ticks.
    out.push(`<g class="x-axis" data-unit="${unit.name}">`);
    for (const t of xt) {
      const x = X(t);
      out.push(`<line x1="${x.toFixed(1)}" y1="${TOP}" x2="${x.toFixed(1)}" y2="${TOP + PANEL_H}" stroke="#e4e4e4"/>`);
      out.push(`<line x1="${x.toFixed(1)}" y1="${TOP + PANEL_H}" x2="${x.toFixed(1)}" y2="${TOP + PANEL_H + 5}" stroke="#333"/>`);
      out.push(`<text class="tick" data-value="${t}" x="${x.toFixed(1)}" y="${TOP + PANEL_H + 20}" text-anchor="middle">${fmt(t)}</text>`);
    }
    out.push(`<text x="${left + PANEL_W / 2}" y="${TOP + PANEL_H + 45}" text-anchor="middle">model size on disk (${unit.name})</text>`);
    out.push(`</g>`);
    out.push(`<g class="y-axis">`);
    for (const t of yt) {
      const y = Y(t);
      out.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${left + PANEL_W}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/>`);
      out.push(`<line x1="${left - 5}" y1="${y.toFixed(1)}" x2="${left}" y2="${y.toFixed(1)}" stroke="#333"/>`);
      out.push(`<text class="tick" data-value="${t}" x="${left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
    }
    const ty = TOP + PANEL_H / 2;
    out.push(`<text x="${left - 58}" y="${ty}" text-anchor="middle" transform="rotate(-90 ${left - 58} ${ty})">${esc(panel.yTitle)}</text>`);
    out.push(`</g>`);
    if (panel.reference) {
      const y = Y(panel.reference.value);
      out.push(`<g class="reference"><line x1="${left}" y1="${y.toFixed(1)}" x2="${left + PANEL_W}" y2="${y.toFixed(1)}" stroke="#555" stroke-width="1.5" stroke-dasharray="5 4"/>`);
      out.push(`<text x="${left + PANEL_W - 4}" y="${(y - 6).toFixed(1)}" text-anchor="end" fill="#555" stroke="white" stroke-width="4" paint-order="stroke">${esc(panel.reference.label)} ${panel.reference.value.toFixed(3)}</text></g>`);
    }
    methods.forEach((m, i) => {
      const c = COLORS[i % COLORS.length]!;
      const pts = input.points
        .filter((p) => p.method === m && panel.value(p) !== undefined && Number.isFinite(panel.value(p)!))
        .sort((a, b) => a.bytes - b.bytes);
      const coords = pts.map((p) => `${X(p.bytes / unit.div).toFixed(1)},${Y(panel.value(p)!).toFixed(1)}`);
      out.push(
        `<polyline class="series" data-method="${esc(m)}" points="${coords.join(' ')}" fill="none" stroke="${c}" stroke-width="2.5"${DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : ''}/>`,
      );
      for (const p of pts) {
        out.push(`<g class="point" data-method="${esc(m)}" data-keep="${p.keep}">${marker(MARKERS[i % MARKERS.length]!, X(p.bytes / unit.div), Y(panel.value(p)!), c)}<title>${esc(`${m}, keep ${p.keep}: ${panel.value(p)!.toFixed(4)}`)}</title></g>`);
      }
    });
    out.push(`</g>`);
  });
  const keeps = [...new Set(input.points.map((p) => p.keep))].sort((a, b) => a - b);
  out.push(
    `<text x="${W / 2}" y="${H - 14}" text-anchor="middle" font-size="12" fill="#444">Each point is one pruned model: kept rows N = ${keeps.map((k) => k.toLocaleString('en')).join(', ')} (left to right). Higher is better.</text>`,
  );
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

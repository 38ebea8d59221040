/**
 * Progress on stderr while long work runs: rows, rate, percent and ETA (by bytes of the pass),
 * redrawn at most 4 times a second, only when stderr is a terminal (or when forced).
 */
export class Progress {
  private label = '';
  private total = 0;
  private bytes = 0;
  private rows = 0;
  private t0 = 0;
  private last = 0;
  private shown = false;

  constructor(
    private readonly enabled: boolean,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  static forStderr(quiet: boolean): Progress {
    return new Progress(!quiet && !!process.stderr.isTTY);
  }

  start(label: string, totalBytes: number): void {
    this.label = label;
    this.total = totalBytes;
    this.bytes = 0;
    this.rows = 0;
    this.t0 = Date.now();
    this.last = 0;
  }

  bytesRead(n: number): void {
    this.bytes = n;
    this.tick();
  }

  addRows(n: number): void {
    this.rows += n;
    this.tick();
  }

  private tick(): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const secs = (now - this.t0) / 1000;
    const rate = secs > 0 ? this.rows / secs : 0;
    let line = `${this.label}: ${this.rows.toLocaleString('en')} rows, ${Math.round(rate).toLocaleString('en')}/s`;
    if (this.total > 0) {
      const f = Math.min(1, this.bytes / this.total);
      line += `, ${(f * 100).toFixed(1)}%`;
      if (f > 0.01) line += `, ETA ${formatSeconds((secs / f) * (1 - f))}`;
    }
    this.out.write(`\r\x1b[K${line}`);
    this.shown = true;
  }

  /** Clears the line. */
  end(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Lines of a small tab-separated side file (counts, mappings) read whole into a Buffer: byte
 * offsets, so words stay byte strings and errors can name the line and offset.
 */

/**
 * Calls `visit(start, end, line)` for every non-empty line of `data`: bytes [start, end) without
 * the newline and a trailing carriage return; `line` counts from 1 (empty lines count too).
 */
export function forEachLine(data: Buffer, visit: (start: number, end: number, line: number) => void): void {
  let s = 0;
  let line = 1;
  while (s < data.length) {
    let e = data.indexOf(0x0a, s);
    if (e < 0) e = data.length;
    let end = e;
    if (end > s && data[end - 1] === 0x0d) end--;
    if (end > s) visit(s, end, line);
    s = e + 1;
    line++;
  }
}

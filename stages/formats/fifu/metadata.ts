/**
 * Metadata chunk (id 5): the chunk body is TOML text (UTF-8), its length is the chunk length.
 * A stock finalfusion reader only reads it when it is the file's first chunk, and refuses the
 * file when the text is not valid TOML. Kept as text here; `toToml` writes the small, flat
 * provenance tables this project stores.
 */
import type { Source } from '../../../pipeline/source.js';
import { ByteWriter, ChunkReader } from './bytes.js';
import { ChunkId, encodeFrame, type ChunkFrame } from './header.js';

const MAX_METADATA = 64 << 20;

export async function readMetadata(source: Source, frame: ChunkFrame): Promise<string> {
  const r = new ChunkReader(source, frame.body, frame.end, 'Metadata chunk');
  const len = frame.end - frame.body;
  if (len > MAX_METADATA) r.fail(`metadata of ${len} bytes; expected TOML text of at most ${MAX_METADATA} bytes`);
  await r.need(len, 'the TOML text');
  const bytes = r.bytes(len);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return r.fail('the TOML metadata is not valid UTF-8', frame.body);
  }
}

export function encodeMetadata(toml: string): Buffer {
  const text = Buffer.from(toml, 'utf8');
  const w = new ByteWriter(12 + text.length);
  encodeFrame(w, ChunkId.Metadata, text.length).bytes(text);
  return w.result();
}

export type TomlValue = string | number | boolean | Date | TomlValue[];
export type TomlTable = { [key: string]: TomlValue | TomlTable | undefined };

function key(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : quote(k);
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function value(v: TomlValue): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return '[' + v.map(value).join(', ') + ']';
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) return String(v);
  const s = String(v);
  return /[.eE]/.test(s) ? s : s + '.0';
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * TOML text of a table: plain keys first, then each sub-table as `[name]` (nested ones as
 * `[a.b]`). Undefined values are left out.
 */
export function toToml(table: TomlTable, prefix: string[] = []): string {
  let out = '';
  const subs: [string, TomlTable][] = [];
  for (const [k, v] of Object.entries(table)) {
    if (v === undefined) continue;
    if (isTable(v)) subs.push([k, v]);
    else out += `${key(k)} = ${value(v)}\n`;
  }
  for (const [k, v] of subs) {
    const path = [...prefix, k];
    out += `${out ? '\n' : ''}[${path.map(key).join('.')}]\n` + toToml(v, path);
  }
  return out;
}

/**
 * Graph files: JSON validated against the generated schema (ajv), with messages that point at the
 * offending key, and `--set stage.option=value` overrides.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject } from 'ajv';
import { InputError, UsageError } from '../pipeline/errors.js';
import type { GraphSpec } from './graph.js';
import { stageNames } from './registry.js';
import { graphSchema } from './stage-options.js';
import { jsonErrorOffset } from './json-position.js';

let validator: ((x: unknown) => boolean) & { errors?: ErrorObject[] | null } | undefined;

function validate(x: unknown): ErrorObject[] {
  if (!validator) {
    // loaded on first use: only graph files need it (about 50 ms at start-up)
    const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
    const ajv = new Ajv({ allErrors: true, strict: false });
    validator = ajv.compile(graphSchema(stageNames()));
  }
  return validator(x) ? [] : (validator.errors ?? []);
}

/** `/stages/2/keep` -> `stages[2].keep` */
function keyPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

function describeError(e: ErrorObject, graph: unknown): string | undefined {
  const stage = (() => {
    const m = /^\/stages\/(\d+)/.exec(e.instancePath);
    if (!m) return '';
    const s = (graph as { stages?: { stage?: unknown }[] }).stages?.[Number(m[1])]?.stage;
    return typeof s === 'string' ? ` (stage "${s}")` : '';
  })();
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return `${keyPath(e.instancePath, key)}: unknown option${stage}`;
    }
    case 'required':
      return `${keyPath(e.instancePath, (e.params as { missingProperty: string }).missingProperty)}: missing${stage}`;
    case 'enum':
      return `${keyPath(e.instancePath)}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}${stage}`;
    case 'if':
    case 'const':
      return undefined; // reported by the rule inside
    default:
      return `${keyPath(e.instancePath)}: ${e.message}${stage}`;
  }
}

/** Validates a parsed graph; throws InputError listing every problem with its key path. */
export function checkGraph(graph: unknown, file = 'graph'): GraphSpec {
  const errors = validate(graph);
  if (errors.length) {
    const msgs = [...new Set(errors.map((e) => describeError(e, graph)).filter((m): m is string => !!m))];
    throw new InputError(msgs.join('; '), { file });
  }
  return graph as GraphSpec;
}

export function readGraphFile(file: string): GraphSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read graph file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const pos = jsonErrorOffset(text);
    const line = pos >= 0 ? text.slice(0, pos).split('\n').length : undefined;
    const found = pos >= 0 && pos < text.length ? JSON.stringify(text[pos]) : 'the end of the file';
    throw new InputError(`not valid JSON: unexpected ${found}`, { file, line, ...(pos >= 0 ? { offset: pos } : {}) });
  }
  return checkGraph(json, file);
}

/**
 * Applies `stage.option=value` (stage by name: the first stage of that name; or by index:
 * `2.keep=10`; top-level keys without a dot: `input=x.vec`). Values are JSON when they parse
 * as JSON, otherwise strings.
 */
export function applySets(g: GraphSpec, sets: string[]): GraphSpec {
  const out = structuredClone(g) as GraphSpec;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq < 1) throw new UsageError(`--set expects stage.option=value, got "${s}"`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    const dot = key.indexOf('.');
    if (dot < 0) {
      (out as unknown as Record<string, unknown>)[key] = value;
      continue;
    }
    const which = key.slice(0, dot);
    const opt = key.slice(dot + 1);
    const idx = /^\d+$/.test(which) ? Number(which) : out.stages.findIndex((st) => st.stage === which);
    if (idx < 0 || idx >= out.stages.length) throw new UsageError(`--set ${s}: no stage "${which}" in the graph`);
    out.stages[idx]![opt] = value;
  }
  return checkGraph(out, '--set');
}

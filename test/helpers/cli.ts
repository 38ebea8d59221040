/** Runs the compiled CLI (npm test builds dist/ first). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './fixtures.js';

export const CLI = path.join(ROOT, 'dist/cli/main.js');
/** The same program bundled into one file per entry (package.json "bundle"; the installed `prune-pipe`). */
export const BUNDLED_CLI = path.join(ROOT, 'dist/bundle/main.js');

export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function runCli(args: string[], opts: { input?: Buffer | string; cwd?: string; env?: Record<string, string>; cli?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [opts.cli ?? CLI, ...args], {
    input: opts.input,
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    maxBuffer: 1 << 28,
  });
  return { code: r.status ?? (r.signal ? 128 : -1), stdout: r.stdout, stderr: r.stderr.toString() };
}

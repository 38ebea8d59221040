/**
 * Paths of the shared real-world fixtures (../shared/fixtures beside the project root).
 * Outside CI, tests that need them skip with a message when the folder is absent; in CI (CI=true)
 * a missing folder fails instead, so these tests can never be skipped silently there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.resolve(ROOT, '../shared/fixtures');
export const HAVE_FIXTURES = fs.existsSync(FIXTURES);

if (!HAVE_FIXTURES) {
  if (process.env.CI) throw new Error(`fixtures missing at ${FIXTURES}: CI must have ../shared beside the project`);
  console.warn(`skipping fixture tests: ${FIXTURES} not found`);
}

export function fixture(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The Debian fasttext binary (required in CI). */
export const HAVE_FASTTEXT = hasCommand('fasttext');
if (!HAVE_FASTTEXT && process.env.CI) throw new Error('fasttext binary missing: .ci/run must install the Debian package');

/** Debian python3 with numpy (required in CI). */
export const HAVE_NUMPY = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!HAVE_NUMPY && process.env.CI) throw new Error('python3-numpy missing: .ci/run must install it');

/** A fresh temporary folder under the OS temp dir. */
export function tmpDir(prefix = 'pp-test-'): string {
  return fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', prefix));
}

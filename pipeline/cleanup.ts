/**
 * Temporary and partial files that must not outlive the process, whatever ends it.
 * Signals (SIGINT/SIGTERM) remove them, print one line and exit 130/143.
 */
import fs from 'node:fs';

const pending = new Set<string>();
let installed = false;
let interruptedBy: 'SIGINT' | 'SIGTERM' | undefined;

/** Registers a path to delete if the process ends before `release` is called. */
export function track(path: string): void {
  pending.add(path);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', removeAll);
  }
}
let exitHook = false;

/** The path no longer needs removing (it was renamed into place or already removed). */
export function release(path: string): void {
  pending.delete(path);
}

/** Removes every tracked path now (synchronously). */
export function removeAll(): void {
  for (const p of pending) {
    try {
      fs.rmSync(p, { force: true, recursive: true });
    } catch {
      /* best effort */
    }
  }
  pending.clear();
}

/** The signal that interrupted the run, if any (checked by long loops). */
export function interrupted(): 'SIGINT' | 'SIGTERM' | undefined {
  return interruptedBy;
}

/** Hook run on a signal before exiting (e.g. to stop worker threads); the CLI sets it. */
let onSignal: ((sig: 'SIGINT' | 'SIGTERM') => void) | undefined;
export function setSignalHook(fn: (sig: 'SIGINT' | 'SIGTERM') => void): void {
  onSignal = fn;
}

/** Signal handlers are the CLI's business; a library user only gets removal at exit. */
function install(): void {
  if (installed) return;
  installed = true;
  if (!exitHook) {
    exitHook = true;
    process.on('exit', removeAll);
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      interruptedBy = sig;
      removeAll();
      if (onSignal) onSignal(sig);
      else {
        process.stderr.write(`prune-pipe: interrupted by ${sig}; partial output removed\n`);
        process.exit(sig === 'SIGINT' ? 130 : 143);
      }
    });
  }
}

/** Installs SIGINT/SIGTERM handlers that remove tracked files and exit 130/143 (the CLI calls this). */
export function installSignalHandlers(): void {
  install();
}

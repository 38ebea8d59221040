/**
 * Typed errors. Every failure a user can cause ends as one of these, carrying what the CLI needs to
 * print one line and exit with a stable code:
 *   2 usage (bad options), 3 input (bad model or counts file), 4 output (cannot write), 1 internal.
 */
export interface Where {
  /** File the problem is in (path as the user gave it, or 'standard input'). */
  file?: string;
  /** Byte offset in that file. */
  offset?: number;
  /** 1-based line number (text formats). */
  line?: number;
  /** What part of the file (e.g. a finalfusion chunk name). */
  part?: string;
}

export class PruneError extends Error {
  readonly exitCode: number = 1;
  constructor(
    message: string,
    readonly where: Where = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** One line: `file:line: message`, `file @ byte N (part): message` or just the message. */
  describe(): string {
    const w = this.where;
    let loc = '';
    if (w.file !== undefined) {
      loc = w.file;
      if (w.line !== undefined) loc += `:${w.line}`;
      if (w.offset !== undefined) loc += ` @ byte ${w.offset}`;
      if (w.part !== undefined) loc += ` (${w.part})`;
      loc += ': ';
    } else if (w.part !== undefined) {
      loc = `${w.part}: `;
    }
    return loc + this.message;
  }
}

/** Options that cannot work (exit 2). */
export class UsageError extends PruneError {
  override readonly exitCode = 2;
}

/** A model, counts or graph file that is malformed or unsupported (exit 3). */
export class InputError extends PruneError {
  override readonly exitCode = 3;
}

/** Output that cannot be written (exit 4). */
export class OutputError extends PruneError {
  override readonly exitCode = 4;
}

/** Standard output was closed by its reader (`... -o - | head`): the run stops quietly (exit 0). */
export class OutputClosedError extends PruneError {
  override readonly exitCode = 0;
  constructor() {
    super('standard output closed by the reader');
  }
}

/** The run was interrupted by a signal (exit 128 + signal number). */
export class InterruptedError extends PruneError {
  override readonly exitCode: number;
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
    this.exitCode = signal === 'SIGINT' ? 130 : 143;
  }
}

/** Throws an InputError when `cond` is false. */
export function expectInput(cond: unknown, message: string, where: Where): asserts cond {
  if (!cond) throw new InputError(message, where);
}

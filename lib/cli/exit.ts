/**
 * Exit codes and the errors that carry them. The top level prints `twopc: <reason>` on one line
 * to stderr and exits with the error's code; users never see a stack trace.
 */
export const exit_codes = Object.freeze({
  /** Done; for `commit`: committed. */
  ok: 0,
  /** A certain negative outcome: `commit` aborted, `get` found no such key. */
  failed: 1,
  /** Bad usage, or no node reachable. */
  usage: 2,
  /** The outcome is unknown (`commit`), or the cluster did not settle in time (`start-master`). */
  unknown: 3,
  /** The cluster cannot take writes now (no majority, no master); stderr carries the node's reason. */
  unavailable: 4,
});

export type ExitCode = (typeof exit_codes)[keyof typeof exit_codes];

/** A failure the user should see as one line, with the exit code to leave with. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Bad command line: unknown command, bad flag, malformed value. Exit code 2. */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';

  constructor(message: string) {
    super(message, exit_codes.usage);
  }
}

/** The one line printed for any error, known or not. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return singleLine(error.message);
  return singleLine(String(error));
}

/** The exit code an error maps to; anything unexpected counts as a usage-level failure. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof CliError ? error.exitCode : exit_codes.usage;
}

function singleLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

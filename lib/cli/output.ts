/** Where commands write: results to stdout, diagnostics to stderr, one line per call. */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function warnLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The progress line a benchmark shows on stderr while it runs: rewritten in place on a
 * terminal, one plain line per step otherwise (logs, CI, tests).
 */
export class Progress {
  private readonly tty: boolean;
  private readonly started = performance.now();
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
  }

  note(text: string): void {
    const elapsed_s = ((performance.now() - this.started) / 1000).toFixed(0).padStart(4);
    const line = `bench ${elapsed_s}s  ${text}`;
    if (this.tty) {
      this.stream.write(`\r\x1b[K${line.slice(0, (this.stream.columns ?? 120) - 1)}`);
      this.shown = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** A line that stays (on a terminal too): something about the whole run the reader must see. */
  warn(text: string): void {
    this.done();
    this.stream.write(`bench: warning: ${text}\n`);
  }

  /** Clears the in-place line so the results print on a clean line. */
  done(): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

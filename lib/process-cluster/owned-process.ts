/**
 * A child process this process owns: its pid, the tail of what it printed, and a stop that
 * waits until it is gone. Every owned child is SIGKILLed when this process exits, whatever
 * happened, so a failed test, benchmark or chaos run leaves no node behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Output kept per process by default, in characters (the tail). */
export const output_kept_chars_default = 64_000;

const owned = new Set<ChildProcess>();
process.once('exit', killAllOwned);

/** SIGKILL every owned child still running (paused ones too). */
export function killAllOwned(): void {
  for (const child of owned) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface OwnedProcessOptions {
  /** The command; default this Node.js binary. */
  readonly command?: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly output_kept_chars?: number;
  /** Run as this user and group (root only; e.g. PostgreSQL, which refuses to run as root). */
  readonly uid?: number;
  readonly gid?: number;
  /** Working directory; default ours. */
  readonly cwd?: string;
}

export class OwnedProcess {
  private output = '';
  private paused = false;
  private stopping = false;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(options: OwnedProcessOptions) {
    const kept = options.output_kept_chars ?? output_kept_chars_default;
    this.child = spawn(options.command ?? process.execPath, [...options.args], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined && { uid: options.uid }),
      ...(options.gid !== undefined && { gid: options.gid }),
      ...(options.cwd !== undefined && { cwd: options.cwd }),
    });
    owned.add(this.child);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-kept);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        owned.delete(this.child);
        resolve();
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit code once it exited normally; null while running or after a signal. */
  get exit_code(): number | null {
    return this.child.exitCode;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get is_paused(): boolean {
    return this.paused && this.running;
  }

  /** True once `stop` was called: an exit after it was asked for. */
  get stopped(): boolean {
    return this.stopping;
  }

  get printed(): string {
    return this.output;
  }

  /** SIGSTOP: the process stays, frozen, until `resume`. */
  pause(): void {
    if (!this.running) return;
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.running) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /**
   * Sends `signal` and waits until the process is gone; a paused process is resumed first so
   * it can act on a gentler signal, which is followed by SIGKILL after `grace_ms`.
   */
  async stop(signal: NodeJS.Signals = 'SIGKILL', grace_ms = 5_000): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    if (this.paused && signal !== 'SIGKILL') this.resume();
    this.child.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => this.child.kill('SIGKILL'), grace_ms);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Runs `twopc` as a real child process (`node bin/twopc.mjs …`) for CLI tests: short commands
 * that are awaited to their exit code, and long-running ones (`cluster`, `start-node`) whose
 * output is collected while they run. Every child spawned here is remembered, so a test file
 * can kill whatever is still running in its teardown, and the test process kills leftovers on
 * exit even when a test failed or timed out.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { twopc_bin } from './process-cluster.ts';
import { waitFor } from './http.ts';

/** What a finished `twopc` run left behind. */
export interface CliRun {
  /** Exit code; null when the process ended by a signal (see `signal`). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly duration_ms: number;
}

export interface CliOptions {
  /** Kill the run (SIGKILL) if it has not exited after this long; default 30 s. */
  readonly timeout_ms?: number;
  /** Extra environment; `TWOPC_*` from the test's own environment is never passed on. */
  readonly env?: Readonly<Record<string, string>>;
}

const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The environment of a child: ours without any `TWOPC_*` setting, plus `extra`. */
export function cliEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('TWOPC_') || name.startsWith('TWOPC_TEST_PORT_')) env[name] = value;
  }
  return { ...env, ...extra };
}

function spawnTwopc(args: readonly string[], env: Readonly<Record<string, string>> | undefined): ChildProcess {
  const child = spawn(process.execPath, [twopc_bin, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Runs `twopc ...args` to completion. Never rejects; a run past its timeout is killed. */
export function runTwopc(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const started = Date.now();
  const child = spawnTwopc(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout_ms ?? 30_000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, duration_ms: Date.now() - started });
    });
  });
}

/** A long-running `twopc` process (`cluster`, `start-node`) with its output so far. */
export class TwopcProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[], env?: Readonly<Record<string, string>>) {
    this.child = spawnTwopc(args, env);
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** The process id (what a refused second start names as the holder). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until stdout holds a complete line matching `pattern`; returns that line. */
  async waitForLine(pattern: RegExp, timeout_ms = 20_000): Promise<string> {
    return waitFor(
      `a line matching ${pattern} (stdout so far: ${JSON.stringify(this.stdout.slice(-500))}, stderr: ${JSON.stringify(this.stderr.slice(-500))})`,
      async () => {
        if (!this.running && !pattern.test(this.stdout)) throw new Error(`process exited (stderr: ${this.stderr.trim()})`);
        return this.stdout.split('\n').slice(0, -1).find((line) => pattern.test(line));
      },
      timeout_ms,
      50,
    );
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /**
   * Waits up to `timeout_ms` for the process to exit; resolves to its exit or to `undefined`
   * when it is still running then.
   */
  async exitWithin(timeout_ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeout_ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL (if still running) and wait until the process is gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}

/** SIGKILLs every `twopc` child still running and waits until they are gone. */
export async function killAllTwopc(): Promise<void> {
  const exits = [...live].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  }));
  await Promise.all(exits);
}

const temp_dirs: string[] = [];

/** A fresh temp dir, removed by `cleanUpCli` (each test file runs in its own process). */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `twopc-${prefix}-`));
  temp_dirs.push(dir);
  return dir;
}

/** For `test.after.always`: kill every `twopc` child still running, then remove the temp dirs. */
export async function cleanUpCli(): Promise<void> {
  await killAllTwopc();
  for (const dir of temp_dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Exactly one line on stderr, `twopc: …`, and nothing that looks like a stack trace. */
export function assertOneErrorLine(t: ExecutionContext, run: CliRun, what: string): string {
  t.regex(run.stderr, /^twopc: [^\n]+\n$/, `${what}: stderr was ${JSON.stringify(run.stderr)}`);
  t.notRegex(run.stderr, /\n\s+at |Error:|node:internal/, `${what}: stack trace or raw error on stderr`);
  return run.stderr.trim();
}

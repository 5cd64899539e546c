/**
 * The processes a benchmark run starts: `twopc start-node` nodes and the baseline server,
 * each a child of this process with its own pid (for SIGKILL and for RSS readings). Every
 * child is remembered and killed when this process exits, whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { entryArgs, twopc_bin } from '../util/package-root.ts';

export { twopc_bin };
/** Output kept per process for error messages, in characters. */
const output_keep_chars = 4_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One child process with the tail of what it printed. */
export class BenchProcess {
  private output = '';
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-output_keep_chars);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        live.delete(this.child);
        resolve();
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get printed(): string {
    return this.output;
  }

  /** Sends `signal` and waits until the process is gone; SIGKILL after `grace_ms` for a gentler signal. */
  async stop(signal: NodeJS.Signals = 'SIGKILL', grace_ms = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => this.child.kill('SIGKILL'), grace_ms);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The environment for children: ours, with node logs at warn and no stray cluster settings. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('TWOPC_')) env[name] = value;
  }
  return { ...env, TWOPC_LOG_LEVEL: 'warn' };
}

/** `twopc start-node --addr ADDR --peers … --data-dir DIR` as its own process. */
export function spawnNode(addr: string, members: readonly string[], data_dir: string): BenchProcess {
  const peers = members.filter((other) => other !== addr).join(',');
  return new BenchProcess([twopc_bin, 'start-node', '--addr', addr, '--peers', peers, '--data-dir', data_dir], childEnv());
}

/** lib/bench/baseline-server as its own process (compiled, or the source through tsx). */
export function spawnBaseline(port: number, data_dir: string): BenchProcess {
  return new BenchProcess([...entryArgs('lib/bench/baseline-server'), String(port), data_dir], childEnv());
}

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { isNodeLogMessage, isNodeTaskMessage, type NodeSpec, type NodeTask, type NodeTaskResult, type SupervisorMessage } from './node-task.ts';

export interface SlotPolicy {
  /** Pause before a node that ended unexpectedly is started again. */
  readonly restart_delay_ms: number;
  readonly log: (line: string) => void;
  /** Prints one of the node's own log lines. */
  readonly print: (line: string) => void;
}

/** One launch of the node's task on the pool. */
interface Run {
  readonly controller: AbortController;
  readonly port: MessagePort;
  /** Settles (never rejects) when the task has ended, however it ended. */
  readonly ended: Promise<void>;
  started: boolean;
}

/**
 * One node's place in the cluster: launches its task, restarts it when it ends unexpectedly,
 * crashes it on request (abort = terminate its thread) and stops it cleanly.
 */
export class NodeSlot {
  readonly addr: string;
  #restarts = 0;
  #run: Run | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  readonly #pool: Piscina<NodeTask, NodeTaskResult>;
  readonly #spec: NodeSpec;
  readonly #policy: SlotPolicy;

  constructor(pool: Piscina<NodeTask, NodeTaskResult>, spec: NodeSpec, policy: SlotPolicy) {
    this.addr = spec.addr;
    this.#pool = pool;
    this.#spec = spec;
    this.#policy = policy;
  }

  /** How many times the node was started again after ending unexpectedly. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * The first start: resolves once the node serves; rejects with the reason if it could not
   * start (the caller treats that as fatal, so no restart is scheduled for it).
   */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#launch({ onStarted: resolve, onEndedBeforeStart: (reason) => reject(new Error(reason)) });
    });
  }

  /** Terminates the node's thread, as `kill -9` would; it is restarted like any crash. */
  async crash(): Promise<void> {
    const run = this.#run;
    if (run === undefined) return;
    run.controller.abort(new Error('crashed on purpose'));
    await run.ended;
  }

  /** Asks the node to stop; after `wait_ms` without an answer its thread is terminated. */
  async stop(wait_ms: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const run = this.#run;
    if (run === undefined) return;
    const stop: SupervisorMessage = { type: 'stop' };
    run.port.postMessage(stop);
    const timer = setTimeout(() => run.controller.abort(new Error('did not stop in time')), wait_ms);
    await run.ended;
    clearTimeout(timer);
  }

  #launch(hooks: { onStarted: () => void; onEndedBeforeStart: (reason: string) => void }): void {
    const controller = new AbortController();
    const channel = new MessageChannel();
    const task: NodeTask = { ...this.#spec, port: channel.port2 };
    const settled = this.#pool.run(task, { signal: controller.signal, transferList: [channel.port2] });
    const run: Run = {
      controller,
      port: channel.port1,
      started: false,
      ended: settled.then(describeResult, describeFailure).then((reason) => this.#ended(run, reason, hooks.onEndedBeforeStart)),
    };
    channel.port1.on('message', (message: unknown) => {
      if (isNodeLogMessage(message)) return this.#policy.print(message.line);
      if (!isNodeTaskMessage(message) || run.started) return;
      run.started = true;
      hooks.onStarted();
    });
    this.#run = run;
  }

  #ended(run: Run, reason: string, onEndedBeforeStart: (reason: string) => void): void {
    run.port.close();
    if (this.#run === run) this.#run = undefined;
    if (this.#stopping) return;
    if (!run.started) onEndedBeforeStart(reason);
    if (!run.started && this.#restarts === 0) return;
    this.#policy.log(`node ${this.addr} ${reason}; restarting in ${this.#policy.restart_delay_ms} ms`);
    this.#restartTimer = setTimeout(() => this.#restart(), this.#policy.restart_delay_ms);
  }

  #restart(): void {
    if (this.#stopping) return;
    this.#restarts += 1;
    const restarts = this.#restarts;
    this.#launch({
      onStarted: () => this.#policy.log(`node ${this.addr} serving again (restart ${restarts})`),
      onEndedBeforeStart: () => undefined,
    });
  }
}

function describeResult(result: NodeTaskResult): string {
  return result.outcome === 'startup-failed' ? `could not start: ${result.reason}` : 'stopped unexpectedly';
}

function describeFailure(error: unknown): string {
  if (error instanceof Error && error.name === 'AbortError') return 'crashed (thread terminated)';
  const message = error instanceof Error ? error.message : String(error);
  return `crashed (${message.replace(/\s*\n\s*/g, ' ')})`;
}

/**
 * The clients of a chaos run: each writes one or two keys of a small key space (so
 * transactions conflict), every value unique to its transaction, and records every attempt
 * with its id, payload and what it learned: committed (200), aborted (409), or
 * indeterminate (no certain answer before its deadline). A client finds the master through
 * `GET /role`, follows 421 redirects, and resubmits the same transaction id to learn the
 * outcome after a timeout, a broken connection or a 503.
 */
import type { ChaosCluster } from './cluster.ts';
import { sleep } from './node-http.ts';
import type { Prng } from './prng.ts';

export type Outcome = 'committed' | 'aborted' | 'indeterminate';

export interface Attempt {
  readonly transaction_id: string;
  readonly client: number;
  readonly payload: Readonly<Record<string, string>>;
  readonly outcome: Outcome;
  /** The sequence the master answered with a commit. */
  readonly sequence?: number;
  /** The last thing heard, for indeterminate ones. */
  readonly note?: string;
}

export interface WorkloadOptions {
  readonly clients: number;
  readonly key_space: number;
  /** How long one attempt may try to learn its outcome before it counts as indeterminate. */
  readonly attempt_deadline_ms: number;
  readonly request_timeout_ms: number;
  /** A pause between a client's transactions, so the run stays checkable. */
  readonly think_max_ms: number;
}

export const default_workload: WorkloadOptions = Object.freeze({
  clients: 6,
  key_space: 12,
  attempt_deadline_ms: 6_000,
  request_timeout_ms: 2_500,
  think_max_ms: 20,
});

const retry_pause_ms = 100;

export class Workload {
  readonly attempts: Attempt[] = [];
  private stopping = false;
  private running: Promise<void>[] = [];
  private master: string | undefined;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly run_id: string,
    private readonly random: Prng,
    private readonly options: WorkloadOptions = default_workload,
  ) {}

  start(): void {
    this.running = Array.from({ length: this.options.clients }, (_, client) => this.client(client, this.random.fork(client)));
  }

  /** Ask every client to stop after its current attempt and wait until all have. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** Attempts whose outcome the client knows: the ones a fault meddler may replay. */
  decided(): readonly Attempt[] {
    return this.attempts.filter((attempt) => attempt.outcome !== 'indeterminate');
  }

  private async client(client: number, random: Prng): Promise<void> {
    for (let n = 1; !this.stopping; n += 1) {
      const value = `c${client}-t${n}`;
      const payload: Record<string, string> = {};
      const width = random.int(1, 2);
      for (let i = 0; i < width; i += 1) payload[`k${random.int(0, this.options.key_space - 1)}`] = value;
      this.attempts.push(await this.attempt(client, `${this.run_id}-${value}`, payload));
      await sleep(random.int(0, this.options.think_max_ms));
    }
  }

  private async attempt(client: number, transaction_id: string, payload: Readonly<Record<string, string>>): Promise<Attempt> {
    const deadline = Date.now() + this.options.attempt_deadline_ms;
    let note = 'never answered';
    while (Date.now() < deadline) {
      const master = this.master ?? (await this.findMaster());
      if (master === undefined) {
        note = 'no master found';
        await sleep(retry_pause_ms);
        continue;
      }
      const answer = await this.cluster.http.post(master, '/transactions', { payload, transaction_id }, this.options.request_timeout_ms);
      if (answer.kind === 'answer' && answer.status === 200) return { transaction_id, client, payload, outcome: 'committed', sequence: answer.body.sequence };
      if (answer.kind === 'answer' && answer.status === 409) return { transaction_id, client, payload, outcome: 'aborted' };
      if (answer.kind === 'answer' && answer.status === 421 && typeof answer.body?.master === 'string' && answer.body.master !== master) {
        this.master = answer.body.master;
        continue;
      }
      note = answer.kind === 'answer' ? `HTTP ${answer.status} ${String(answer.body?.error ?? '')}` : `${answer.kind}: ${answer.reason}`;
      this.master = undefined;
      await sleep(retry_pause_ms);
    }
    return { transaction_id, client, payload, outcome: 'indeterminate', note };
  }

  /** Ask the nodes in turn who the master is; undefined when none names one. */
  private async findMaster(): Promise<string | undefined> {
    for (const addr of this.cluster.addrs) {
      const role = await this.cluster.http.get(addr, '/role', 1_000);
      if (role.kind === 'answer' && role.status === 200 && typeof role.body?.master === 'string') {
        this.master = role.body.master;
        return this.master;
      }
    }
    return undefined;
  }
}

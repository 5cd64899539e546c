/**
 * A simulated client: submits transactions over a few shared keys (so they conflict) to
 * the node it believes is master (`POST /transactions`), follows 421 redirects, retries the
 * same transaction id on 503 or a timeout, and remembers what it wrote and which commits it
 * was told about. Each transaction writes its own id as the value, so every stored value
 * names its writer.
 */
import type { Payload } from '../protocol/payload.ts';
import type { PeerResponse } from '../node/peer-calls.ts';
import type { Endpoint, World } from './world.ts';

/** What the clients of a run (or a scenario) submitted and were told: the checker's reference. */
export class ClientRecord {
  /** Every transaction submitted, with its writes. */
  readonly submitted = new Map<string, Payload>();
  /** Transactions a node answered 200 for, with the sequence it gave. */
  readonly acknowledged = new Map<string, number>();
  /** Transactions a node answered 409 for. */
  readonly refused = new Set<string>();
}

type SubmitBody = { readonly sequence?: number; readonly reason?: string; readonly master?: string | null };

export class SimClient implements Endpoint {
  readonly incarnation = 0;
  private target: string;
  private transactions = 0;
  private stopped = false;

  constructor(
    private readonly world: World,
    readonly addr: string,
    private readonly nodes: readonly string[],
    private readonly record: ClientRecord,
  ) {
    this.target = world.random.pick(nodes);
  }

  arrive(_incarnation: number, run: () => void): boolean {
    run();
    return true;
  }

  /** Think, submit, repeat until stopped. */
  start(): void {
    this.world.schedule(this.world.random.int(0, this.world.options.client_think_max_ms), () => {
      if (this.stopped) return;
      void this.submit(this.nextTransaction()).then(() => this.start());
    });
  }

  /** Submit no new transactions; the one under way still retries. */
  stop(): void {
    this.stopped = true;
  }

  /** A new transaction over 1..max_keys_per_transaction of the shared keys. */
  nextTransaction(keys?: readonly string[]): { readonly id: string; readonly payload: Payload } {
    const { random, options } = this.world;
    this.transactions += 1;
    const id = `${this.addr}-t${this.transactions}`;
    const chosen = keys ?? random.sample(options.keys, random.int(1, options.max_keys_per_transaction));
    const payload: Payload = Object.fromEntries(chosen.map((key) => [key, id]));
    return { id, payload };
  }

  /** Submit one transaction until it is answered COMMITTED or ABORTED, or the attempts run out. Returns the last status. */
  async submit(transaction: { readonly id: string; readonly payload: Payload }, to?: string): Promise<number | undefined> {
    const { world } = this;
    const { options, random } = world;
    const { id, payload } = transaction;
    if (to !== undefined) this.target = to;
    this.record.submitted.set(id, payload);
    world.note(`${this.addr} submit ${id} keys=${Object.keys(payload).join(',')}`);
    for (let attempt = 1; attempt <= options.client_attempts; attempt += 1) {
      let answer: PeerResponse<SubmitBody> | undefined;
      try {
        answer = await world.call<SubmitBody>(this, this.target, 'POST', '/transactions', { transaction_id: id, payload }, options.client_timeout_ms);
      } catch {
        answer = undefined;
      }
      const master = answer?.body?.master ?? undefined;
      if (answer?.status === 200 && typeof answer.body.sequence === 'number') {
        this.record.acknowledged.set(id, answer.body.sequence);
        world.note(`${this.addr} acknowledged ${id} seq=${answer.body.sequence}`);
        return 200;
      }
      if (answer?.status === 409) {
        this.record.refused.add(id);
        world.note(`${this.addr} aborted ${id} (${answer.body.reason})`);
        return 409;
      }
      if (answer?.status === 421 && master !== undefined) {
        this.target = master;
        continue;
      }
      this.target = answer?.status === 503 && master !== undefined && random.chance(0.5) ? master : random.pick(this.nodes);
      await new Promise<void>((resolve) => world.schedule(options.client_retry_backoff_ms, resolve));
    }
    world.note(`${this.addr} gave up ${id}`);
    return undefined;
  }
}

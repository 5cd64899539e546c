/**
 * A simulated client: submits transactions over a few shared keys (so they conflict) to
 * the node it believes is master, follows 421 redirects, retries the same transaction id on
 * 503 or a timeout, and remembers what it wrote and which commits it was told about.
 * Each transaction writes its own id as the value, so every stored value names its writer.
 */
import type { Payload } from '../protocol/payload.ts';
import type { SubmitAnswer } from './rpc.ts';
import type { Endpoint, World } from './world.ts';

export interface ClientRecord {
  /** Every transaction submitted, with its writes. */
  readonly submitted: Map<string, Payload>;
  /** Transactions a node answered 200 for, with the sequence it gave. */
  readonly acknowledged: Map<string, number>;
  /** Transactions a node answered 409 for. */
  readonly refused: Set<string>;
}

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

  start(): void {
    this.world.schedule(this.world.random.int(0, this.world.options.client_think_max_ms), `${this.addr} think`, () => this.submitNext());
  }

  /** Submit no new transactions; those under way still retry. */
  stop(): void {
    this.stopped = true;
  }

  private submitNext(): void {
    if (this.stopped) return;
    const { random, options } = this.world;
    this.transactions += 1;
    const id = `${this.addr}-t${this.transactions}`;
    const keys = random.sample(options.keys, random.int(1, options.max_keys_per_transaction));
    const payload: Payload = Object.fromEntries(keys.map((key) => [key, id]));
    this.record.submitted.set(id, payload);
    this.world.note(`${this.addr} submit ${id} keys=${keys.join(',')}`);
    this.attempt(id, payload, 1);
  }

  private attempt(id: string, payload: Payload, attempt: number): void {
    const { options, random } = this.world;
    if (attempt > options.client_attempts) {
      this.world.note(`${this.addr} gave up ${id}`);
      return this.next();
    }
    this.world.call(this, this.target, 'submit', { transaction_id: id, payload }, options.client_timeout_ms, (reply) => {
      const answer: SubmitAnswer | undefined = reply.ok ? reply.body : undefined;
      if (answer?.http_status === 200) {
        this.record.acknowledged.set(id, answer.sequence);
        this.world.note(`${this.addr} acknowledged ${id} seq=${answer.sequence}`);
        return this.next();
      }
      if (answer?.http_status === 409) {
        this.record.refused.add(id);
        this.world.note(`${this.addr} aborted ${id} (${answer.reason})`);
        return this.next();
      }
      if (answer?.http_status === 421 && answer.master !== undefined) {
        this.target = answer.master;
        return this.attempt(id, payload, attempt + 1);
      }
      this.target = answer?.http_status === 503 && answer.master !== undefined && random.chance(0.5) ? answer.master : random.pick(this.nodes);
      this.world.schedule(options.client_retry_backoff_ms, `${this.addr} retry`, () => this.attempt(id, payload, attempt + 1));
    });
  }

  private next(): void {
    this.world.schedule(this.world.random.int(0, this.world.options.client_think_max_ms), `${this.addr} think`, () => this.submitNext());
  }
}

/**
 * Scripted scenarios: rebuild a situation step by step on the simulated world (the real
 * services, a quiet network, no random faults) without depending on what a seed does: start
 * a cluster, then crash, pause, cut links (one way or both), drop or hold messages, submit,
 * advance time, and `settle` (heal, restart, quiesce, check every invariant). See
 * test/simulation/scenarios.test.ts.
 */
import { checkQuiesced } from './checker.ts';
import { createNodes } from './runner.ts';
import { quiet_network, resolveOptions, type SimOverrides } from './options.ts';
import { ClientRecord, SimClient } from './client.ts';
import { simAddr, SimNode } from './machine.ts';
import type { MessageRule } from './network.ts';
import type { DiskFault } from './disk-faults.ts';
import { World, type Violation } from './world.ts';
import type { NodeState } from '../node/context.ts';
import { assert } from '../util/assert.ts';
import type { PeerResponse } from '../node/peer-calls.ts';

/** How long a scenario waits, at most, for something it expects (a master, a quiet cluster). */
const scenario_wait_max_ms = 30_000;
/** How long `settle` lets a healed cluster run before checking it. */
const settle_duration_ms = 15_000;

/** Messages as a rule matches them (network.ts, `MessageRule`), and how many: every one when `times` is absent. */
export type MessageMatch = Pick<MessageRule, 'from' | 'to' | 'label'> & { readonly times?: number };

export class Scenario {
  readonly record = new ClientRecord();
  private readonly client: SimClient;

  private constructor(
    readonly world: World,
    readonly nodes: SimNode[],
  ) {
    this.client = new SimClient(world, 'client', nodes.map((node) => node.addr), this.record);
  }

  /** Start a cluster (3 nodes by default) on a quiet network and wait until node 1 accepts writes. */
  static async start(overrides: Partial<SimOverrides> = {}): Promise<Scenario> {
    const world = new World(resolveOptions({ seed: 1, ...overrides, network: { ...quiet_network, ...overrides.network } }));
    const scenario = new Scenario(world, [...createNodes(world)]);
    for (const node of scenario.nodes) node.start();
    await scenario.until(() => scenario.isAcceptingWrites(1), 'node 1 accepts writes');
    return scenario;
  }

  /** The address of node `n` (1-based: node 1 has the lowest address). */
  addr(n: number): string {
    return this.node(n).addr;
  }

  node(n: number): SimNode {
    const node = this.nodes[n - 1];
    assert(node !== undefined, `there is no node ${n}`);
    return node;
  }

  /** Node `n`'s in-memory state (it must be up). */
  state(n: number): NodeState {
    const node = this.node(n).node;
    assert(node !== undefined, `node ${n} is not running`);
    return node.context.state;
  }

  isAcceptingWrites(n: number): boolean {
    return this.node(n).isAcceptingWrites();
  }

  async advance(duration_ms: number): Promise<void> {
    await this.world.runUntil(this.world.now_ms + duration_ms);
  }

  /** Advance in small steps until `condition` holds; fails the scenario after `scenario_wait_max_ms`. */
  async until(condition: () => boolean, what: string, step_ms = 10): Promise<void> {
    const deadline_ms = this.world.now_ms + scenario_wait_max_ms;
    while (!condition()) {
      assert(this.world.now_ms < deadline_ms, `scenario waited ${scenario_wait_max_ms} ms for: ${what}`);
      await this.advance(step_ms);
    }
  }

  /** Advance time until `promise` (a submit's answer, say) settles, and give its value. */
  async outcome<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => (settled = true));
    await this.until(() => settled, 'a promise to settle');
    return watched;
  }

  /** Start one more node, configured with the current members as its peers; it is no member until `join`. Returns its number. */
  addNode(): number {
    const n = this.nodes.length + 1;
    const node = new SimNode(this.world, simAddr(n), this.nodes.map((other) => other.addr));
    this.nodes.push(node);
    node.start();
    return n;
  }

  /** Ask node `via` to add node `n` to the membership (`POST /cluster/join`); gives the HTTP status. */
  async join(n: number, via = 1): Promise<number | undefined> {
    return (await this.call(via, 'POST', '/cluster/join', { addr: this.addr(n) }))?.status;
  }

  crash(n: number): void {
    this.node(n).crash();
  }

  restart(n: number): void {
    assert(!this.node(n).up, `node ${n} is up`);
    this.node(n).start();
  }

  pause(n: number, duration_ms: number): void {
    this.node(n).pause(duration_ms);
  }

  /** Node `n`'s disk fails every write (ENOSPC, EIO) or fsyncs slowly (`extra_ms` a write) for `duration_ms`. */
  failDisk(n: number, fault: DiskFault, duration_ms: number, extra_ms = 0): void {
    this.node(n).failDisk(fault, duration_ms, extra_ms);
  }

  /** Cut the link from node `from` to node `to` (one way). */
  cut(from: number, to: number): void {
    this.world.note(`cut ${this.addr(from)} > ${this.addr(to)}`);
    this.world.network.cut(this.addr(from), this.addr(to));
  }

  /** Cut node `n` from every other node, both ways. */
  isolate(n: number): void {
    for (const other of this.nodes) if (other !== this.node(n)) this.world.network.cut(this.addr(n), other.addr, true);
    this.world.note(`isolate ${this.addr(n)}`);
  }

  /** Restore every cut link. */
  heal(): void {
    this.world.note('heal');
    this.world.network.heal();
  }

  /** Drop matching messages from now on (every one, or `times`). */
  drop(match: MessageMatch): MessageRule {
    return this.world.network.addRule({ ...match, action: 'drop', remaining: match.times ?? Number.POSITIVE_INFINITY });
  }

  /** Hold matching messages until `release(rule)` delivers them. */
  hold(match: MessageMatch): MessageRule {
    return this.world.network.addRule({ ...match, action: 'hold', remaining: match.times ?? Number.POSITIVE_INFINITY });
  }

  /** Stop a drop or hold rule; held messages are delivered now. */
  release(rule: MessageRule): void {
    this.world.network.release(rule);
  }

  /**
   * Submit a transaction writing `keys` to node `to` (default: node 1), retrying as a client
   * does. It runs as time advances; the promise gives the last HTTP status (undefined: gave up).
   */
  submit(keys: readonly string[], to = 1): { readonly id: string; readonly answer: Promise<number | undefined> } {
    const transaction = this.client.nextTransaction(keys);
    return { id: transaction.id, answer: this.client.submit(transaction, this.addr(to)) };
  }

  /** Submit again an id already submitted (a client's retry), with the same writes. */
  resubmit(id: string, to = 1): Promise<number | undefined> {
    const payload = this.record.submitted.get(id);
    assert(payload !== undefined, `${id} was never submitted`);
    return this.client.submit({ id, payload }, this.addr(to));
  }

  /** Read `key` on node `n` (`GET /kv/:key`), as a client does; gives the HTTP status and body (undefined: no answer). */
  read(key: string, n: number): Promise<PeerResponse<{ readonly value?: unknown; readonly stale?: boolean }> | undefined> {
    return this.call(n, 'GET', `/kv/${encodeURIComponent(key)}`, undefined);
  }

  /** One request of the client to node `n`, time advancing until it is answered (undefined: no answer). */
  private call<T>(n: number, method: 'GET' | 'POST', path: string, body: unknown): Promise<PeerResponse<T> | undefined> {
    return this.outcome(this.world.call<T>(this.client, this.addr(n), method, path, body, this.world.options.client_timeout_ms).catch(() => undefined));
  }

  /** Heal every link, lift every rule, restart every crashed node, let the cluster quiesce, and check every invariant. */
  async settle(): Promise<readonly Violation[]> {
    this.world.network.heal();
    this.world.network.liftRules();
    for (const node of this.nodes) if (!node.up) node.start();
    await this.advance(settle_duration_ms);
    checkQuiesced(this.nodes, this.record, (rule, detail) => this.world.violate(rule, detail));
    return [...this.world.violations];
  }
}

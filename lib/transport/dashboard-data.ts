/**
 * `GET /dashboard/data`: everything the live page (lib/transport/dashboard-page.ts) shows, as
 * this node sees it: the members with what their last heartbeat said, the timeline of the
 * last minutes, and the transactions in flight, undelivered or PREPARED here with their state
 * on every member (asked by this node, so the browser talks to one node at a time).
 */
import type { TwopcNode } from '../node/node.ts';
import { timeline_interval_ms, type MetricsExposition, type TimelineSample } from './metrics.ts';
import type { TransactionView } from '../protocol/messages.ts';

/** Most transactions one answer lists (their states are asked of every member). */
export const dashboard_transactions_max = 20;
/** Timeout of one member's answer about one transaction. */
export const dashboard_peer_timeout_ms = 400;

export interface DashboardNode {
  readonly addr: string;
  /** The node this answer came from. */
  readonly self: boolean;
  readonly role: 'MASTER' | 'SLAVE';
  readonly alive: boolean;
  readonly reachable: boolean;
  /** What the member said about itself at its last answered heartbeat (absent: never answered). */
  readonly epoch?: number;
  readonly last_sequence?: number;
  readonly phase?: string;
  readonly last_seen_ms?: number;
}

export interface DashboardTransaction {
  readonly transaction_id: string;
  /** PREPARED here for longer than `in_doubt_after_ms`. */
  readonly in_doubt: boolean;
  readonly since: number;
  /** Each member's state of it; `?` when the member did not answer. */
  readonly states: Readonly<Record<string, string>>;
}

export interface DashboardData {
  readonly addr: string;
  readonly role: 'MASTER' | 'SLAVE';
  readonly master: string | null;
  readonly epoch: number;
  readonly phase: string;
  readonly last_sequence: number;
  readonly accepting_writes: boolean;
  readonly members: readonly string[];
  readonly nodes: readonly DashboardNode[];
  readonly sample_interval_ms: number;
  readonly samples: readonly TimelineSample[];
  readonly transactions: readonly DashboardTransaction[];
  readonly time_ms: number;
}

export async function collectDashboardData(node: TwopcNode, metrics: MetricsExposition): Promise<DashboardData> {
  const view = node.roleView();
  const { context } = node;
  return {
    addr: view.addr,
    role: view.role,
    master: view.master,
    epoch: view.epoch,
    phase: view.state,
    last_sequence: view.last_sequence,
    accepting_writes: view.accepting_writes,
    members: context.state.members,
    nodes: view.nodes.map((member) => describeMember(node, member)),
    sample_interval_ms: timeline_interval_ms,
    samples: metrics.listSamples(),
    transactions: await listTransactions(node),
    time_ms: Date.now(),
  };
}

function describeMember(node: TwopcNode, member: { readonly addr: string; readonly alive: boolean; readonly role: 'MASTER' | 'SLAVE' }): DashboardNode {
  const { context } = node;
  if (member.addr === context.addr) {
    const report = node.cluster.report();
    return { ...member, self: true, reachable: true, epoch: report.epoch, last_sequence: report.last_sequence, phase: report.phase, last_seen_ms: Date.now() };
  }
  const peer = context.state.peers.get(member.addr);
  const report = peer?.last_report;
  return {
    ...member,
    self: false,
    reachable: peer?.reachable ?? false,
    ...(report !== undefined && { epoch: report.epoch, last_sequence: report.last_sequence, phase: report.phase }),
    ...(peer?.last_seen_ms !== undefined && { last_seen_ms: peer.last_seen_ms }),
  };
}

/** Transactions PREPARED here (oldest first), then rounds this node coordinates now or has not delivered everywhere. */
async function listTransactions(node: TwopcNode): Promise<readonly DashboardTransaction[]> {
  const { context } = node;
  const prepared = await context.participant_log.listPrepared();
  const cutoff_ms = context.clock.now_ms() - context.limits.in_doubt_after_ms;
  const in_doubt = new Set(prepared.filter((record) => record.updated_at <= cutoff_ms).map((record) => record.id));
  const ids = [
    ...new Set([...[...prepared].sort((a, b) => a.updated_at - b.updated_at).map((record) => record.id), ...node.coordinator.listInFlight(), ...node.coordinator.listUndelivered()]),
  ];
  return Promise.all(ids.slice(0, dashboard_transactions_max).map((id) => describeTransaction(node, id, in_doubt.has(id))));
}

async function describeTransaction(node: TwopcNode, id: string, in_doubt: boolean): Promise<DashboardTransaction> {
  const { context } = node;
  const own = await node.viewTransaction(id);
  const views = await Promise.all(
    context.state.members.map(async (addr): Promise<readonly [string, string]> => {
      if (addr === context.addr) return [addr, own.state];
      try {
        const answer = await context.client.call<TransactionView>(addr, 'GET', `/transactions/${encodeURIComponent(id)}`, undefined, dashboard_peer_timeout_ms);
        return [addr, answer.status === 200 ? answer.body.state : '?'];
      } catch {
        return [addr, '?'];
      }
    }),
  );
  return { transaction_id: id, in_doubt, since: own.since, states: Object.fromEntries(views) };
}

/**
 * CORS for the page: it may be loaded from one member and, once that one dies, poll
 * another. Only a page served by a member (its origin is `http://<member>`, or `localhost`
 * for a loopback member) may read the answer; any other site gets no CORS header.
 */
export function corsHeadersFor(origin: string | null, members: readonly string[]): Readonly<Record<string, string>> {
  if (origin === null) return {};
  const allowed = members.some((member) => origin === `http://${member}` || origin === `http://${member.replace(/^127\.0\.0\.1:/, 'localhost:')}`);
  return allowed ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
}

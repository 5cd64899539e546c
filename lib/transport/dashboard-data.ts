/**
 * `GET /dashboard/data`: everything the live page (lib/transport/dashboard-page.ts) shows, as
 * this node sees it: the members with what their last heartbeat said (and how often each
 * started), the timeline of the last minutes, the epochs led so far (this node's and its
 * reachable members' terms), and the transactions in flight, undelivered or PREPARED here with
 * their state on every member (asked by this node, so the browser talks to one node at a time).
 */
import type { TwopcNode } from '../node/node.ts';
import { timeline_interval_ms, type MetricsExposition, type TimelineSample } from './metrics.ts';
import type { TransactionView } from '../protocol/messages.ts';
import type { Term } from '../storage/meta.ts';

/** Most transactions one answer lists (their states are asked of every member). */
export const dashboard_transactions_max = 20;
/** Most terms (epochs and who led them) one answer lists, the latest. */
export const dashboard_terms_max = 50;
/** Writes of one transaction one answer shows, and how much of each JSON value, in characters. */
export const dashboard_writes_max = 5;
export const dashboard_value_max_chars = 60;
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
  /** Times the member started on its data directory (1: never restarted). */
  readonly starts?: number;
}

export interface DashboardTransaction {
  readonly transaction_id: string;
  /** PREPARED here for longer than `in_doubt_after_ms`. */
  readonly in_doubt: boolean;
  readonly since: number;
  /** Its first writes as this node holds them (PREPARED here): key and JSON value, shortened. */
  readonly writes: readonly { readonly key: string; readonly value: string }[];
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
  /** Epochs led so far, oldest first, as this node and its reachable members recorded them. */
  readonly terms: readonly Term[];
  readonly time_ms: number;
}

/** `starts`: how often this node started on its data directory, this start included. */
export async function collectDashboardData(node: TwopcNode, metrics: MetricsExposition, starts: number): Promise<DashboardData> {
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
    nodes: view.nodes.map((member) => describeMember(node, member, starts)),
    sample_interval_ms: timeline_interval_ms,
    samples: metrics.listSamples(),
    transactions: await listTransactions(node),
    terms: await listTerms(node),
    time_ms: Date.now(),
  };
}

function describeMember(node: TwopcNode, member: { readonly addr: string; readonly alive: boolean; readonly role: 'MASTER' | 'SLAVE' }, starts: number): DashboardNode {
  const { context } = node;
  if (member.addr === context.addr) {
    const report = node.cluster.report();
    return { ...member, self: true, reachable: true, epoch: report.epoch, last_sequence: report.last_sequence, phase: report.phase, last_seen_ms: Date.now(), starts };
  }
  const peer = context.state.peers.get(member.addr);
  const report = peer?.last_report;
  return {
    ...member,
    self: false,
    reachable: peer?.reachable ?? false,
    ...(report !== undefined && { epoch: report.epoch, last_sequence: report.last_sequence, phase: report.phase }),
    ...(report?.starts !== undefined && { starts: report.starts }),
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
  const [own, record] = await Promise.all([node.viewTransaction(id), context.participant_log.find(id)]);
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
  return { transaction_id: id, in_doubt, since: own.since, writes: listWrites(record?.payload), states: Object.fromEntries(views) };
}

/** The first writes of a payload, each value as (shortened) JSON text; the page shows them as text. */
function listWrites(payload: Readonly<Record<string, unknown>> | undefined): DashboardTransaction['writes'] {
  return Object.entries(payload ?? {})
    .slice(0, dashboard_writes_max)
    .map(([key, value]) => {
      const text = JSON.stringify(value) ?? 'null';
      return { key, value: text.length > dashboard_value_max_chars ? `${text.slice(0, dashboard_value_max_chars - 1)}…` : text };
    });
}

/**
 * Every epoch this node led and every one its reachable members say they led, one per epoch,
 * the latest `dashboard_terms_max`. A member that is down is missing until it answers again
 * (the page keeps what it saw).
 */
async function listTerms(node: TwopcNode): Promise<readonly Term[]> {
  const { context } = node;
  const answers = await Promise.all(
    context.state.members.map(async (addr): Promise<readonly Term[]> => {
      if (addr === context.addr) return context.meta.listTerms();
      if (context.state.peers.get(addr)?.reachable !== true) return [];
      try {
        const answer = await context.client.call<{ readonly terms: readonly Term[] }>(addr, 'GET', '/cluster/terms', undefined, dashboard_peer_timeout_ms);
        return answer.status === 200 && Array.isArray(answer.body.terms) ? answer.body.terms : [];
      } catch {
        return [];
      }
    }),
  );
  const by_epoch = new Map(answers.flat().map((term) => [term.epoch, term]));
  return [...by_epoch.values()].sort((a, b) => a.epoch - b.epoch).slice(-dashboard_terms_max);
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

/**
 * Where every HTTP message is received: the contract's routes, each validating its input
 * against a schema in lib/protocol/messages.ts and handing it to the node.
 */
import { H3, type H3Event } from 'h3';
import {
  ClaimRequestSchema,
  DigestQuerySchema,
  ViewsRequestSchema,
  KeyParamSchema,
  KvPageQuerySchema,
  LogPageQuerySchema,
  MembershipRequestSchema,
  SubmitRequestSchema,
  TransactionIdParamSchema,
  WireAbortRequestSchema,
  WireCommitRequestSchema,
  WireDecideBatchRequestSchema,
  WirePrepareBatchRequestSchema,
  WirePrepareRequestSchema,
} from '../protocol/messages.ts';
import type { TwopcNode } from '../node/node.ts';
import { noteStoreFault } from '../node/store-faults.ts';
import { failpoint_names, parseFailpointAction, type FailpointName } from '../node/failpoints.ts';
import { readBodyAs, readParamsAs, readQueryAs, refuse } from './validate.ts';
import { authenticate } from './authenticate.ts';
import type { ClientKeys } from '../security/client-keys.ts';
import { answerMetrics, type MetricsExposition } from './metrics.ts';
import { collectDashboardData, corsHeadersFor } from './dashboard-data.ts';
import type { DecisionAnswer } from '../node/participant-service.ts';
import { answerDecision, answerHealth, answerKey, changeMembership, readStaleness, stopping_error } from './route-answers.ts';
import { awaitApplied, MinSequenceQuerySchema } from './await-applied.ts';
import * as v from 'valibot';
import type { SkewableClock } from '../time/clock.ts';

export interface RouteOptions {
  readonly failpoints: boolean;
  /** What `GET /metrics` and the dashboard show. */
  readonly metrics: MetricsExposition;
  /** Times this node started on its data directory, this start included (`/health` and the dashboard show it). */
  readonly starts: number;
  /** With a cluster secret, every request must be signed (401 otherwise). */
  readonly secret?: string;
  /** Client keys this node accepts on the client routes (lib/security/client-keys.ts). */
  readonly client_keys?: ClientKeys;
  /** With failpoints, the clock `POST /debug/clock` moves. */
  readonly clock?: SkewableClock;
}

const FailpointRequestSchema = v.object({ name: v.picklist(failpoint_names, 'unknown failpoint'), action: v.string() });
/** Largest wall-clock jump a fault test may set: a year. */
const clock_offset_max_ms = 366 * 24 * 3600 * 1000;
const ClockRequestSchema = v.object({
  offset_ms: v.pipe(v.number('offset_ms must be a number'), v.integer('offset_ms must be an integer'), v.minValue(-clock_offset_max_ms), v.maxValue(clock_offset_max_ms)),
});

export function json(status: number, body: unknown, extra_headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...extra_headers } });
}

/**
 * Answer with `status` and a JSON body. Cheaper than building a Response: h3 serializes a
 * plain object itself, and the hot routes answer thousands of times a second.
 */
function reply<T>(event: H3Event, status: number, body: T): T {
  event.res.status = status;
  return body;
}

export function createApp(node: TwopcNode, options: RouteOptions): H3 {
  const limit = node.context.limits.body_limit_bytes;
  const body = <S extends v.GenericSchema>(event: H3Event, schema: S) => readBodyAs(event, schema, limit);
  const batchBody = <S extends v.GenericSchema>(event: H3Event, schema: S) => readBodyAs(event, schema, node.context.limits.batch_body_limit_bytes);
  const app = new H3({
    silent: true,
    onError: (error) => {
      const status = error.status;
      if (status === 404 && error.message.startsWith('Cannot find any route')) return json(404, { error: 'no such route' });
      if (status === 405) return json(405, { error: 'method not allowed' });
      // A refused body may still be arriving: close the connection rather than try to
      // find the next request in the rest of it.
      // A request refused before its body was read (401, 403) closes too: its body is never read.
      if (status === 413 || status === 415 || status === 401 || status === 403) return json(status, { error: error.message }, { connection: 'close' });
      if (status >= 400 && status < 500) return json(status, { error: error.message });
      node.context.log.warn('request-failed', { error: String(error.cause ?? error) });
      noteStoreFault(node.context, error.cause ?? error);
      return json(500, { error: 'internal error' });
    },
  });

  // After a pause (SIGSTOP, a long stall) requests that queued meanwhile may run before any
  // timer: each request first checks the clock, so the node detaches before it answers.
  app.use(() => node.cluster.pulse());
  const batch_paths = new Set(['/prepare-batch', '/decide-batch', '/cluster/views']);
  const limitFor = (path: string) => (batch_paths.has(path) ? node.context.limits.batch_body_limit_bytes : limit);
  if (options.secret !== undefined) app.use(authenticate(options.secret, node.context.clock, limitFor, node.addr, options.client_keys));

  app.get('/health', (event) => {
    const health = answerHealth(node);
    return reply(event, health.status, { ...(health.body as object), starts: options.starts });
  });

  app.get('/role', () => node.roleView());

  app.post('/prepare', async (event) => {
    const request = await body(event, WirePrepareRequestSchema);
    const vote = await node.participant.prepare(request);
    return reply(event, vote.status === 'READY' ? 200 : 500, vote);
  });

  const replyDecision = (event: H3Event, answer: DecisionAnswer) => {
    const { status, body: decided } = answerDecision(answer);
    return reply(event, status, decided);
  };
  app.post('/commit', async (event) => replyDecision(event, await node.participant.commit(await body(event, WireCommitRequestSchema))));
  app.post('/abort', async (event) => replyDecision(event, await node.participant.abort(await body(event, WireAbortRequestSchema))));

  // A master's group commit: many transactions of one round in one message each way.
  app.post('/prepare-batch', async (event) => ({ votes: await node.participant.prepareBatch(await batchBody(event, WirePrepareBatchRequestSchema)) }));
  app.post('/decide-batch', async (event) => node.participant.decideBatch(await batchBody(event, WireDecideBatchRequestSchema)));

  app.post('/transactions', async (event) => {
    const answer = await node.coordinator.submit(await body(event, SubmitRequestSchema));
    return reply(event, answer.http_status, answer.body);
  });

  app.get('/transactions/:id', async (event) => {
    const { id } = await readParamsAs(event, TransactionIdParamSchema);
    return node.viewTransaction(id);
  });

  app.get('/kv/:key', async (event) => {
    const { key } = await readParamsAs(event, KeyParamSchema);
    const behind = await awaitApplied(node, (await readQueryAs(event, MinSequenceQuerySchema)).min_sequence);
    if (behind !== undefined) return reply(event, 503, { error: behind });
    const answer = await answerKey(node, key);
    return reply(event, answer.status, answer.body);
  });

  app.get('/kv', async (event) => {
    const query = await readQueryAs(event, KvPageQuerySchema);
    const behind = await awaitApplied(node, (await readQueryAs(event, MinSequenceQuerySchema)).min_sequence);
    if (behind !== undefined) return reply(event, 503, { error: behind });
    const stale = await readsAreStale(node);
    const page = await node.context.kv.page(query.after, query.limit ?? 100);
    const last = page.items.at(-1);
    return { items: page.items, ...(page.more && last && { next: last.key }), ...(stale && { stale }) };
  });

  app.get('/cluster/log', async (event) => {
    const query = await readQueryAs(event, LogPageQuerySchema);
    return { entries: await node.context.participant_log.readLog(query.after ?? 0, query.limit ?? 500) };
  });

  app.post('/cluster/claim', async (event) => {
    const answer = await node.cluster.answerClaim(await body(event, ClaimRequestSchema));
    return reply(event, answer.granted ? 200 : 409, answer);
  });

  // A full audit of this replica (lib/node/replica-integrity.ts): what `twopc verify` compares.
  app.get('/cluster/digest', async (event) => {
    const { sequence } = await readQueryAs(event, DigestQuerySchema);
    const applied = node.context.sequences.applied_through;
    if (sequence !== undefined && sequence > applied) return reply(event, 409, { error: `sequence ${sequence} is not applied here yet`, last_sequence: applied });
    const answer = await node.integrity.verify(sequence);
    return answer ?? reply(event, 503, { error: 'this replica is being repaired; ask again', last_sequence: node.context.sequences.applied_through });
  });

  app.get('/cluster/terms', async () => ({ terms: await node.context.meta.listTerms() }));

  app.get('/cluster/in-doubt', async () => ({ rounds: await node.recovery.listInDoubtRounds() }));

  app.post('/cluster/views', async (event) => ({ views: await node.recovery.viewTransactions((await batchBody(event, ViewsRequestSchema)).transaction_ids) }));

  app.post('/cluster/join', async (event) => {
    return changeMembership(node, 'join', (await body(event, MembershipRequestSchema)).addr);
  });

  app.post('/cluster/leave', async (event) => {
    const { addr } = await body(event, MembershipRequestSchema);
    if (addr === node.addr) throw refuse(400, 'a node cannot remove itself; ask another member');
    return changeMembership(node, 'leave', addr);
  });

  app.get('/metrics', () => answerMetrics(options.metrics));

  // The page's text is loaded on the first request for it, not by every node that starts.
  app.get('/', async () => new Response((await import('./dashboard-page.ts')).renderDashboardPage({ via: 'node', addr: node.addr }), { headers: { 'content-type': 'text/html; charset=utf-8' } }));

  app.get('/dashboard/data', async (event) =>
    json(200, await collectDashboardData(node, options.metrics, options.starts), { 'cache-control': 'no-store', ...corsHeadersFor(event.req.headers.get('origin'), node.context.state.members) }),
  );

  if (options.failpoints) {
    app.post('/debug/failpoints', async (event) => {
      const request = await body(event, FailpointRequestSchema);
      const action = parseFailpointAction(request.action);
      if (!action) throw refuse(400, 'action must be abort, delay:MS, crash or off');
      node.context.failpoints.set(request.name as FailpointName, action);
      return { failpoints: node.context.failpoints.list() };
    });
    const clock = options.clock;
    if (clock) {
      app.post('/debug/clock', async (event) => {
        clock.setOffset((await body(event, ClockRequestSchema)).offset_ms);
        node.context.log.warn('clock-jumped', { offset_ms: clock.offset_ms });
        return { offset_ms: clock.offset_ms, now_ms: clock.now_ms() };
      });
    }
  }
  return app;
}

async function readsAreStale(node: TwopcNode): Promise<boolean> {
  const stale = await readStaleness(node);
  if (stale === undefined) throw refuse(503, stopping_error);
  return stale;
}

/**
 * The HTTP front of the PostgreSQL row (postgres.ts), in the bench process: it takes twopc's
 * `POST /transactions` body (`{"payload": {key: value, …}}`) so the same wrk script drives
 * it, and commits the payload on every server by two-phase commit from the Node `pg` client:
 * on each server at once `BEGIN; INSERT … ON CONFLICT DO UPDATE; PREPARE TRANSACTION 'gid'`
 * (one round trip), then, when all three prepared, `COMMIT PREPARED 'gid'` on each (one more
 * round trip); 200 once every server committed. A server that fails to prepare makes it
 * `ROLLBACK PREPARED` wherever it prepared and answer 409. The front keeps no decision log
 * of its own (a coordinator that crashed between the two phases would leave the prepared
 * transactions for an operator), as issue 13's "from a Node pg client" measured.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type pg_types from 'pg';
import { throughput_connections } from '../workloads.ts';

export type PgModule = typeof pg_types;

/** Connections from the front to each server: one per load connection. */
const front_pool_size = throughput_connections;
const front_keep_alive_ms = 10_000;
/** Request bodies larger than this are refused (the bench's are well under 1 KB). */
const front_body_max_bytes = 64 * 1024;

/** The `pg` module, or undefined when it is not installed (it is a devDependency). */
export async function loadPg(): Promise<PgModule | undefined> {
  try {
    return (await import('pg')).default;
  } catch {
    return undefined;
  }
}

export interface PostgresFront {
  readonly addr: string;
  close(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

let transaction_counter = 0;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > front_body_max_bytes) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

function parsePayload(text: string): Record<string, unknown> | undefined {
  try {
    const payload = (JSON.parse(text) as { payload?: unknown }).payload;
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) && Object.keys(payload).length > 0 ? (payload as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Two-phase commit of `payload` on every pool's server. */
async function commitEverywhere(pools: readonly pg_types.Pool[], payload: Record<string, unknown>): Promise<Answer> {
  transaction_counter += 1;
  const gid = `twopc-bench-${process.pid}-${transaction_counter}`;
  const clients = await Promise.all(pools.map((pool) => pool.connect()));
  try {
    const escape = (text: string) => (clients[0] as pg_types.PoolClient).escapeLiteral(text);
    const rows = Object.entries(payload).map(([key, value]) => `(${escape(key)}, ${escape(JSON.stringify(value))})`);
    const prepare = `BEGIN; INSERT INTO kv (key, value) VALUES ${rows.join(', ')} ON CONFLICT (key) DO UPDATE SET value = excluded.value; PREPARE TRANSACTION '${gid}'`;
    const votes = await Promise.allSettled(clients.map((client) => client.query(prepare)));
    if (votes.every((vote) => vote.status === 'fulfilled')) {
      await Promise.all(clients.map((client) => client.query(`COMMIT PREPARED '${gid}'`)));
      return { status: 200, body: { status: 'COMMITTED', transaction_id: gid } };
    }
    await Promise.all(clients.map((client, i) => client.query(votes[i]?.status === 'fulfilled' ? `ROLLBACK PREPARED '${gid}'` : 'ROLLBACK').catch(() => undefined)));
    const reason = votes.find((vote): vote is PromiseRejectedResult => vote.status === 'rejected')?.reason;
    return { status: 409, body: { status: 'ABORTED', error: reason instanceof Error ? reason.message : String(reason) } };
  } finally {
    for (const client of clients) client.release();
  }
}

async function handle(pools: readonly pg_types.Pool[], request: IncomingMessage): Promise<Answer> {
  if (request.method !== 'POST' || request.url !== '/transactions') return { status: 404, body: { error: 'only POST /transactions' } };
  const payload = parsePayload(await readBody(request));
  if (payload === undefined) return { status: 400, body: { error: 'the body must be {"payload": {key: value, ...}} with at least one key' } };
  return commitEverywhere(pools, payload);
}

function send(response: ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Creates the `kv` table on each server and serves the front on 127.0.0.1:`port`. */
export async function startPostgresFront(pg: PgModule, server_addrs: readonly string[], port: number): Promise<PostgresFront> {
  const pools = server_addrs.map((addr) => {
    const [host, server_port] = addr.split(':');
    return new pg.Pool({ host, port: Number(server_port), user: 'postgres', database: 'postgres', max: front_pool_size });
  });
  // An idle client's error (its server stopped) must not end the bench process.
  for (const pool of pools) pool.on('error', () => undefined);
  await Promise.all(pools.map((pool) => pool.query('CREATE TABLE IF NOT EXISTS kv (key text PRIMARY KEY, value text NOT NULL)')));
  const server = createServer({ keepAliveTimeout: front_keep_alive_ms }, (request, response) => {
    handle(pools, request).then(
      (answer) => send(response, answer),
      (error: unknown) => send(response, { status: 500, body: { error: error instanceof Error ? error.message : String(error) } }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    addr: `127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await Promise.all(pools.map((pool) => pool.end()));
    },
  };
}

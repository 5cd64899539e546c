/**
 * The benchmark's baseline: ONE process doing the HTTP and SQLite work of a commit without
 * two-phase commit. Same stack as a node (h3 on listhen via lib/transport/http-server.ts,
 * the node's SQLite file layout and pragmas via openDatabase: WAL, synchronous=FULL), the
 * same body validation (SubmitRequestSchema, 64 KiB limit), and the same durable write a node
 * makes to apply a commit (ParticipantLog.write: kv rows and a log row with a sequence),
 * grouped like a node groups them: the requests that arrive during one fsync share the next.
 *
 * Run as its own process: `node dist/lib/bench/baseline-server.js PORT DATA_DIR` (lib/bench/processes.ts).
 * Prints `baseline serving on 127.0.0.1:PORT` once it listens; SIGTERM stops it.
 */
import { randomUUID } from 'node:crypto';
import { H3, HTTPError, type H3Event } from 'h3';
import { openDatabase } from '../storage/database.ts';
import { ParticipantLog, type CommitInput } from '../storage/participant-log.ts';
import { SubmitRequestSchema } from '../protocol/messages.ts';
import { readBodyAs } from '../transport/validate.ts';
import { listenHttp } from '../transport/http-server.ts';
import { default_limits } from '../node/options.ts';

const host = '127.0.0.1';

function jsonError(status: number, message: string): Response {
  return new Response(JSON.stringify({ error: message }), { status, headers: { 'content-type': 'application/json' } });
}

async function serveBaseline(port: number, data_dir: string): Promise<void> {
  const database = await openDatabase(data_dir);
  const log = new ParticipantLog(database.db, database.sqlite);
  let sequence = await log.maxCommittedSequence();
  // Group commit, as the cluster does: the requests that arrive while one write is being made
  // go to disk together in the next one (one SQLite transaction, one fsync).
  let waiting: { entry: CommitInput; done: (error?: unknown) => void }[] = [];
  const flush = () => {
    const batch = waiting;
    waiting = [];
    try {
      log.write({ prepared: [], committed: batch.map(({ entry }) => entry), aborted: [] });
      for (const { done } of batch) done();
    } catch (error) {
      for (const { done } of batch) done(error);
    }
  };
  const applyDurably = (entry: CommitInput) =>
    new Promise<void>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(flush);
      waiting.push({ entry, done: (error) => (error === undefined ? resolve() : reject(error)) });
    });
  const app = new H3({
    silent: true,
    onError: (error: HTTPError) => jsonError(error.status >= 400 && error.status < 500 ? error.status : 500, error.status < 500 ? error.message : 'internal error'),
  });
  app.get('/health', () => ({ status: 'ok', role: 'BASELINE', last_sequence: sequence }));
  app.post('/transactions', async (event: H3Event) => {
    const request = await readBodyAs(event, SubmitRequestSchema, default_limits.body_limit_bytes);
    const transaction_id = request.transaction_id ?? randomUUID();
    sequence += 1;
    const assigned = sequence;
    await applyDurably({ transaction_id, sequence: assigned, payload: request.payload, epoch: 0, now_ms: Date.now() });
    return { transaction_id, status: 'COMMITTED', sequence: assigned, participants: [`${host}:${port}`] };
  });
  const server = await listenHttp(app, host, port);
  process.stdout.write(`baseline serving on ${host}:${port}\n`);
  const stop = async () => {
    await server.close();
    await database.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

const [port_text, data_dir] = process.argv.slice(2);
const port = Number(port_text);
if (!Number.isInteger(port) || port < 1 || port > 65_535 || data_dir === undefined) {
  process.stderr.write('usage: baseline-server.ts PORT DATA_DIR\n');
  process.exit(2);
}
await serveBaseline(port, data_dir);

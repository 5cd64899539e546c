/**
 * The production PeerCalls (lib/transport/http-client.ts) against a real HTTP server on
 * loopback: what a call gives back, and every way it fails as PeerUnreachable.
 */
import test from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { PeerClient, PeerUnreachable } from '../../lib/transport/http-client.ts';
import { findFreePorts } from '../../lib/util/free-ports.ts';
import { system_clock } from '../../lib/time/clock.ts';
import { peer_header } from '../../lib/security/signature.ts';
import { verifyRequest } from '../../lib/security/signature.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A loopback server answering with `handler`; gives its address and a stop. */
async function serve(handler: Handler): Promise<{ readonly addr: string; readonly stop: () => Promise<void> }> {
  const [port] = await findFreePorts(1);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString(), res));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    addr: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

test('a call gives the status and the parsed JSON body, and sends its body as JSON marked as a peer', async (t) => {
  const seen: { method?: string; path?: string; type?: string; peer?: string; body?: string }[] = [];
  const server = await serve((req, body, res) => {
    seen.push({ method: req.method!, path: req.url!, type: req.headers['content-type']!, peer: req.headers[peer_header] as string, body });
    answerJson(res, req.url === '/refused' ? 409 : 200, { echo: body.length > 0 ? JSON.parse(body) : null });
  });
  const client = new PeerClient(system_clock);
  try {
    const answer = await client.call<{ echo: unknown }>(server.addr, 'POST', '/prepare-batch', { votes: [1, 2] }, 2_000);
    t.deepEqual(answer, { status: 200, body: { echo: { votes: [1, 2] } } });
    const refused = await client.call(server.addr, 'POST', '/refused', { a: 'b' }, 2_000);
    t.is(refused.status, 409, 'a 4xx is an answer, not an unreachable peer');
    const health = await client.call(server.addr, 'GET', '/health', undefined, 2_000);
    t.deepEqual(health.body, { echo: null });
    t.deepEqual(seen[0], { method: 'POST', path: '/prepare-batch', type: 'application/json', peer: '1', body: '{"votes":[1,2]}' });
    t.is(seen[2]?.method, 'GET');
  } finally {
    await client.close();
    await server.stop();
  }
});

test('a body sent to several peers is the same text for each, and a large answer arrives whole', async (t) => {
  const bodies: string[] = [];
  const large = 'x'.repeat(300_000);
  const servers = await Promise.all(
    [0, 1].map(() =>
      serve((_req, body, res) => {
        bodies.push(body);
        answerJson(res, 200, { large });
      }),
    ),
  );
  const client = new PeerClient(system_clock);
  try {
    const message = { epoch: 3, transactions: [{ transaction_id: 't1', payload: { k: 'v' } }] };
    const answers = await Promise.all(servers.map(({ addr }) => client.call<{ large: string }>(addr, 'POST', '/prepare-batch', message, 2_000)));
    t.is(bodies[0], JSON.stringify(message));
    t.is(bodies[1], bodies[0]);
    for (const answer of answers) t.is(answer.body.large.length, large.length);
  } finally {
    await client.close();
    await Promise.all(servers.map((server) => server.stop()));
  }
});

test('a signed call carries a signature the receiving node verifies', async (t) => {
  const secret = 'a cluster secret of enough length';
  let verdict: unknown;
  const server = await serve((req, body, res) => {
    verdict = verifyRequest(secret, { method: req.method!, path: req.url!, node: `127.0.0.1:${req.socket.localPort}`, body }, (name) => (req.headers[name] as string | undefined) ?? null, Date.now());
    answerJson(res, 200, {});
  });
  const client = new PeerClient(system_clock, secret);
  try {
    await client.call(server.addr, 'POST', '/decide-batch', { commits: [], aborts: [] }, 2_000);
    t.like(verdict, { ok: true });
  } finally {
    await client.close();
    await server.stop();
  }
});

test('a peer that never answers, answers with something not JSON, or is not listening is unreachable', async (t) => {
  const silent = await serve(() => undefined);
  const garbled = await serve((_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"votes": [');
  });
  const [closed_port] = await findFreePorts(1);
  const client = new PeerClient(system_clock);
  try {
    const timeout = await t.throwsAsync(client.call(silent.addr, 'POST', '/prepare-batch', { a: 1 }, 300), { instanceOf: PeerUnreachable });
    // The coordinator tells a timeout from other failures by these words (CoordinatorService.requestVotes).
    t.regex(timeout.cause_message, /timeout/i);
    t.is(timeout.addr, silent.addr);
    await t.throwsAsync(client.call(garbled.addr, 'POST', '/prepare-batch', { a: 1 }, 2_000), { instanceOf: PeerUnreachable });
    const refused = await t.throwsAsync(client.call(`127.0.0.1:${closed_port}`, 'GET', '/health', undefined, 2_000), { instanceOf: PeerUnreachable });
    t.notRegex(refused.cause_message, /timeout/i, 'a refused connection is not a timeout');
  } finally {
    await client.close();
    await Promise.all([silent.stop(), garbled.stop()]);
  }
  await t.throwsAsync(client.call(silent.addr, 'GET', '/health', undefined, 300), { instanceOf: PeerUnreachable, message: /client closed/ });
});

/**
 * Start one node: open its SQLite file, rebuild what it held (locks of prepared
 * transactions, applied sequences, epoch, membership), listen, catch up, then serve.
 */
import { PeerClient } from '../transport/http-client.ts';
import { openDatabase, resolveNodeDir } from '../storage/database.ts';
import { ParticipantLog } from '../storage/participant-log.ts';
import { DecisionLog } from '../storage/decision-log.ts';
import { KvReads } from '../storage/kv-reads.ts';
import { MetaStore } from '../storage/meta.ts';
import { SkewableClock, system_clock, type Clock } from '../time/clock.ts';
import { createApp } from '../transport/routes.ts';
import { listenHttp } from '../transport/http-server.ts';
import { initialStatus, type PeerStatus } from '../cluster/membership.ts';
import { LockTable } from './lock-table.ts';
import { SequenceTracker } from './sequence-tracker.ts';
import { Failpoints } from './failpoints.ts';
import { createLogger, levelFromEnv, stderrIsTerminal } from './logger.ts';
import { countingLogger, NodeMetrics } from './metrics.ts';
import { metricsSourceOf } from '../transport/metrics.ts';
import { TwopcNode } from './node.ts';
import { default_limits, StartupError, type NodeHandle, type NodeOptions } from './options.ts';
import type { NodeContext, NodeState } from './context.ts';
import { listPayloadKeys } from '../protocol/payload.ts';
import { checkBindPolicy } from '../security/bind-policy.ts';

export async function startNode(options: NodeOptions, base_clock: Clock = system_clock): Promise<NodeHandle> {
  const { host, port } = splitAddr(options.addr);
  const clock = new SkewableClock(base_clock);
  const refusal = checkBindPolicy(host, options.secret);
  if (refusal !== undefined) throw new StartupError(refusal);
  const limits = { ...default_limits, ...options.limits };
  const dir = resolveNodeDir(options.dataDir, options.addr);
  const database = await openDatabase(dir).catch((error: unknown) => {
    throw new StartupError(`cannot use data directory ${dir}: ${describe(error)}`);
  });
  const participant_log = new ParticipantLog(database.db, database.sqlite);
  const decision_log = new DecisionLog(database.db, database.sqlite);
  const meta = new MetaStore(database.db);
  const locks = new LockTable();
  for (const record of await participant_log.listPrepared()) {
    if (record.payload) locks.acquire(record.id, listPayloadKeys(record.payload));
  }
  const sequences = await loadSequences(participant_log);
  const members = [...new Set([options.addr, ...options.peers, ...((await meta.readMembers()) ?? [])])].sort();
  await meta.writeMembers(members);
  const state: NodeState = {
    phase: 'starting',
    role: 'SLAVE',
    epoch: await meta.readEpoch(),
    master: undefined,
    accepting_writes: false,
    members,
    peers: new Map<string, PeerStatus>(members.filter((addr) => addr !== options.addr).map((addr) => [addr, initialStatus(addr)])),
    // Only what is applied here: a decision from an earlier life that was never applied may
    // be withdrawn (RecoveryService.reconcile), and its sequence used again.
    max_sequence: sequences.max_applied,
    granted: await meta.readGrant(),
    term: undefined,
  };
  const metrics = new NodeMetrics();
  const log = countingLogger(
    createLogger(options.addr, {
      level: options.logLevel ?? levelFromEnv(),
      pretty: options.logPretty ?? stderrIsTerminal(),
      epoch: () => state.epoch,
      ...(options.logSink !== undefined && { sink: options.logSink }),
    }),
    metrics,
  );
  const client = new PeerClient(clock, options.secret);
  const context: NodeContext = {
    addr: options.addr,
    limits,
    clock,
    client,
    participant_log,
    decision_log,
    kv: new KvReads(database.db),
    meta,
    locks,
    sequences,
    failpoints: new Failpoints(() => crashNow(options.addr)),
    log,
    metrics,
    state,
  };
  const node = new TwopcNode(context);
  metrics.watch(metricsSourceOf(node));
  await node.recovery.loadUnconfirmed();
  const app = createApp(node, {
    failpoints: options.failpoints === true,
    clock,
    ...(options.secret !== undefined && { secret: options.secret }),
  });
  const server = await listenHttp(app, host, port, limits.body_read_timeout_ms).catch(async (error: unknown) => {
    metrics.close();
    await database.close();
    throw new StartupError(`cannot listen on ${options.addr}: ${describe(error)}`);
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      node.stop();
      metrics.close();
      await server.close().catch(() => undefined);
      await client.close();
      await database.close();
    })());
  try {
    await node.start();
  } catch (error) {
    await stop();
    throw new StartupError(`cannot start ${options.addr}: ${describe(error)}`);
  }
  return { addr: options.addr, url: server.url, stop };
}

/**
 * Which sequences are applied here. The usual case, every sequence 1..N present, is read
 * from two aggregates over the index instead of a million rows; only a store with gaps
 * lists its sequences.
 */
async function loadSequences(participant_log: ParticipantLog): Promise<SequenceTracker> {
  const { count, max } = participant_log.summarizeCommitted();
  if (count === max) return SequenceTracker.contiguous(max);
  return new SequenceTracker(await participant_log.listCommittedSequences(0));
}

export function splitAddr(addr: string): { readonly host: string; readonly port: number } {
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(addr.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) throw new StartupError(`address must be host:port, got ${addr}`);
  return { host, port };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return 'address already in use';
    if (code === 'EACCES') return 'permission denied';
    // listhen (get-port-please) words a busy port as a failed search for a free one.
    if (/Unable to find an available port/i.test(error.message)) return 'address already in use';
    return error.message;
  }
  return String(error);
}

/** A failpoint's `crash`: end this node at once, as `kill -9` would (what is on disk stays). */
function crashNow(addr: string): never {
  process.stderr.write(`twopc node ${addr}: crashing at a failpoint\n`);
  process.exit(137);
}

/**
 * Where a node is assembled and started: the production parts (SQLite stores, the undici
 * peer client, the h3/listhen server, the pino log, Prometheus metrics, real timers, random
 * ids) handed to the node's services through their seams (lib/node/open-node.ts).
 * Start one node: own its port, then its folder (nothing is written before both are), open
 * its SQLite file, rebuild what it held (locks of prepared transactions, applied sequences,
 * epoch, membership), catch up, then serve.
 */
import { PeerClient } from '../transport/http-client.ts';
import { openDatabase, resolveNodeDir, store_file_name, type OpenedDatabase } from '../storage/database.ts';
import { join } from 'node:path';
import { checkStoreAtStart } from './check-store.ts';
import { FolderBusyError, lockFolder, type FolderLock } from '../storage/folder-lock.ts';
import { mkdirSync } from 'node:fs';
import { ParticipantLog } from '../storage/participant-log.ts';
import { DecisionLog } from '../storage/decision-log.ts';
import { KvReads } from '../storage/kv-reads.ts';
import { MetaStore } from '../storage/meta.ts';
import type { CommittedSummary } from '../storage/stores.ts';
import { SkewableClock, system_clock, type Clock } from '../time/clock.ts';
import { createApp } from '../transport/routes.ts';
import { listenHttp } from '../transport/http-server.ts';
import { real_timers } from '../time/timers.ts';
import { Failpoints } from '../node/failpoints.ts';
import { withDiskFaults } from '../node/store-faults.ts';
import { createLogger, levelFromEnv, stderrIsTerminal } from './logger.ts';
import { metricsSourceOf, PrometheusMetrics } from './metrics.ts';
import { openNode } from '../node/open-node.ts';
import { no_planted_bugs } from '../node/planted-bugs.ts';
import { random_ids } from './random-ids.ts';
import { default_limits } from '../node/options.ts';
import { StartupError, type NodeHandle, type NodeOptions } from './options.ts';
import { checkBindPolicy } from '../security/bind-policy.ts';
import { ClientKeys } from '../security/client-keys.ts';
import { startQuietCollection, type QuietCollection } from './quiet-collection.ts';

export async function startNode(options: NodeOptions, base_clock: Clock = system_clock): Promise<NodeHandle> {
  const { host: name_host, port } = splitAddr(options.addr);
  const host = options.bind ?? name_host;
  const clock = new SkewableClock(base_clock);
  const refusal = checkBindPolicy(host, options.secret);
  if (refusal !== undefined) throw new StartupError(refusal);
  const client_keys = openClientKeys(options);
  const limits = { ...default_limits, ...options.limits };
  const dir = resolveNodeDir(options.dataDir, options.addr);
  // Own the port, then the folder, before anything is written: a start that fails here (the
  // address or the folder is another node's) leaves both as they were.
  const server = await listenHttp(undefined, host, port, limits.body_read_timeout_ms, options.secret !== undefined).catch((error: unknown) => {
    throw new StartupError(`cannot listen on ${options.addr}: ${describe(error)}`);
  });
  const opened = await openOwnedStores(dir, options.addr).catch(async (error: unknown) => {
    await server.close().catch(() => undefined);
    throw error;
  });
  const { lock, database, committed } = opened;
  const meta = new MetaStore(database.db);
  const metrics = new PrometheusMetrics(clock);
  const client = new PeerClient(clock, options.secret);
  const abandon = async () => {
    metrics.close();
    await server.close().catch(() => undefined);
    await client.close();
    await database.close();
    lock.release();
  };
  const assembled = await (async () => {
    // How often this node started on this data directory: /health and the dashboard show it.
    const starts = await meta.countStart();
    const failpoints = new Failpoints(() => crashNow(options.addr), real_timers);
    const stores = {
      participant_log: new ParticipantLog(database.db, database.sqlite),
      decision_log: new DecisionLog(database.db, database.sqlite),
      meta,
      kv: new KvReads(database.db),
    };
    const node = await openNode({
      addr: options.addr,
      peers: options.peers,
      limits,
      clock,
      timers: real_timers,
      ids: random_ids,
      client,
      // The `disk-write` failpoint can only be armed through `--failpoints`.
      stores: options.failpoints === true ? withDiskFaults(stores, failpoints) : stores,
      metrics,
      failpoints,
      createLog: (epoch) =>
        createLogger(options.addr, {
          level: options.logLevel ?? levelFromEnv(),
          pretty: options.logPretty ?? stderrIsTerminal(),
          epoch,
          ...(options.logSink !== undefined && { sink: options.logSink }),
        }),
      bugs: no_planted_bugs,
      // Counted by the store check just now: not counted again.
      ...(committed !== undefined && { committed }),
    });
    return { node, starts };
  })().catch(async (error: unknown) => {
    await abandon();
    throw new StartupError(`cannot start ${options.addr}: ${describe(error)}`);
  });
  const { node, starts } = assembled;
  metrics.watch(metricsSourceOf(node));
  server.serve(
    createApp(node, {
      failpoints: options.failpoints === true,
      metrics,
      starts,
      clock,
      ...(options.secret !== undefined && { secret: options.secret }),
      ...(client_keys !== undefined && { client_keys }),
    }),
  );
  let stopping: Promise<void> | undefined;
  let quiet: QuietCollection | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      quiet?.stop();
      node.stop();
      await abandon();
    })());
  try {
    await node.start();
  } catch (error) {
    await stop();
    throw new StartupError(`cannot start ${options.addr}: ${describe(error)}`);
  }
  // Once its traffic stops, the node gives back the heap the traffic grew (lib/boot/quiet-collection.ts).
  quiet = startQuietCollection();
  return { addr: options.addr, url: server.url, stop };
}

/**
 * Create the node's folder and take it for this process's life (lib/storage/folder-lock.ts):
 * two nodes on one folder would each apply half the writes to the same file. Only then open
 * its SQLite file.
 */
async function openOwnedStores(dir: string, addr: string): Promise<{ readonly lock: FolderLock; readonly database: OpenedDatabase; readonly committed: CommittedSummary | undefined }> {
  let lock: FolderLock;
  try {
    mkdirSync(dir, { recursive: true });
    lock = lockFolder(dir, addr);
  } catch (error) {
    if (error instanceof FolderBusyError) throw new StartupError(error.message);
    throw new StartupError(`cannot use data directory ${dir}: ${describe(error)}`);
  }
  let database: OpenedDatabase;
  try {
    database = await openDatabase(dir);
  } catch (error) {
    lock.release();
    const reason = describe(error);
    if (/malformed|corrupt|not a database/i.test(reason)) throw new StartupError(`store ${join(dir, store_file_name)} is damaged (${reason}): refusing to serve from it; ${damaged_store_advice}`);
    throw new StartupError(`cannot use data directory ${dir}: ${reason}`);
  }
  const { problems, committed } = await checkStoreAtStart(database.sqlite, database.file);
  if (problems.length > 0) {
    await database.close();
    lock.release();
    throw new StartupError(`store ${database.file} failed its check (${problems.join('; ')}): refusing to serve from it; ${damaged_store_advice}`);
  }
  return { lock, database, committed };
}

/** What an operator does with a store a node refuses: the cluster holds the data. */
const damaged_store_advice = 'move the folder aside and start the node again: it starts empty and catches up from its peers';

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

/** The client keys file, read once now: without a cluster secret, or unreadable or malformed, the node refuses to start. */
function openClientKeys(options: NodeOptions): ClientKeys | undefined {
  if (options.clientKeysFile === undefined) return undefined;
  if (options.secret === undefined) throw new StartupError('client keys need a cluster secret (--secret-file PATH or env TWOPC_SECRET): without one no request is signed');
  try {
    return new ClientKeys(options.clientKeysFile, (message) => process.emitWarning(message));
  } catch (error) {
    throw new StartupError(`cannot read the client keys: ${describe(error)}`);
  }
}

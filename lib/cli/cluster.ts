import { createLiveTable } from '../supervisor/live-table.ts';
import { clusterAddrs, startCluster, type Cluster } from '../supervisor/supervisor.ts';
import { CliError, exit_codes, type ExitCode } from './exit.ts';
import { data_dir_default, flagInteger, flagSwitch, flagText, optionalText, type RawFlags } from './flags.ts';
import { parseAddr } from './nodes.ts';
import { isLoopbackHost } from '../security/bind-policy.ts';
import { printLine } from './output.ts';
import { readSecret, requireSecretFor } from './secret.ts';
import { onShutdownSignal } from './signals.ts';
import { parseLogLevel } from './log-level.ts';
import type { LogLevel } from '../boot/logger.ts';

export const cluster_base_port_default = 8081;
export const cluster_host_default = '127.0.0.1';
/** Most nodes one supervisor runs (one worker thread each). */
export const cluster_size_max = 64;
const max_port = 65_535;

export interface ClusterFlags {
  readonly size: number;
  readonly basePort: number;
  readonly host: string;
  readonly dataDir: string;
  readonly failpoints: boolean;
  readonly secret: string | undefined;
  readonly logLevel: LogLevel;
}

/** `twopc cluster --size N [--base-port 8081] [--host 127.0.0.1] [--data-dir DIR] [--failpoints] [--log-level LEVEL]` */
export async function runCluster(raw: RawFlags): Promise<ExitCode> {
  const flags = parseClusterFlags(raw);
  const addrs = clusterAddrs(flags.host, flags.basePort, flags.size);
  const shutdown = onShutdownSignal();
  let cluster: Cluster | undefined;
  const table = createLiveTable({ addrs, restarts: (addr) => cluster?.restarts(addr) ?? 0 });
  // A StartupError (busy port, unwritable data dir) reaches the top level as one line, exit 2.
  cluster = await startCluster({
    size: flags.size,
    host: flags.host,
    basePort: flags.basePort,
    dataDir: flags.dataDir,
    failpoints: flags.failpoints,
    log: (line) => table.printAbove(line),
    logLevel: flags.logLevel,
    logPretty: process.stderr.isTTY === true,
    ...(flags.secret !== undefined && { secret: flags.secret }),
  });
  printLine(
    `twopc cluster: ${flags.size} nodes on ${flags.host}:${flags.basePort}..${flags.basePort + flags.size - 1}, data in ${cluster.dataDir} (Ctrl-C to stop)`,
  );
  table.start();
  await shutdown;
  await table.stop();
  table.printAbove('twopc cluster: stopping');
  await cluster.stop();
  return exit_codes.ok;
}

export function parseClusterFlags(raw: RawFlags, env: NodeJS.ProcessEnv = process.env): ClusterFlags {
  if (raw['size'] === undefined) throw new CliError('--size N is required', exit_codes.usage);
  const size = flagInteger(raw['size'], '--size', 1, cluster_size_max);
  const basePort = raw['basePort'] === undefined
    ? cluster_base_port_default
    : flagInteger(raw['basePort'], '--base-port', 1, max_port - size + 1);
  const host = raw['host'] === undefined ? cluster_host_default : flagText(raw['host'], '--host');
  const { host: bareHost } = parseAddr(host.includes(':') ? `[${host}]:${basePort}` : `${host}:${basePort}`);
  const secret = readSecret(optionalText(raw['secretFile'], '--secret-file'), env);
  requireSecretFor(bareHost, secret, isLoopbackHost(bareHost));
  return {
    size,
    basePort,
    host: bareHost,
    dataDir: optionalText(raw['dataDir'], '--data-dir') ?? data_dir_default,
    failpoints: flagSwitch(raw['failpoints'], env['TWOPC_FAILPOINTS']),
    secret,
    logLevel: parseLogLevel(raw['logLevel'], env),
  };
}

import { resolve } from 'node:path';
import type { NodeHandle } from '../boot/options.ts';
import { startNode } from '../boot/start-node.ts';
import { exit_codes, UsageError, type ExitCode } from './exit.ts';
import { data_dir_default, flagSwitch, flagText, optionalText, type RawFlags } from './flags.ts';
import { parseAddr, parseAddrList } from './nodes.ts';
import { isLoopbackHost } from '../security/bind-policy.ts';
import { printLine, warnLine } from './output.ts';
import { readSecret, requireSecretFor } from './secret.ts';
import { onShutdownSignal } from './signals.ts';
import { parseLogLevel } from './log-level.ts';
import { withConfigFile } from './config-file.ts';
import type { LogLevel } from '../boot/logger.ts';

/** Where nodes keep their files when `--data-dir` is not given. */
/** How long a stopping node may take before the process exits anyway. */
export const node_stop_wait_ms = 10_000;

export interface StartNodeFlags {
  readonly addr: string;
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly failpoints: boolean;
  readonly secret: string | undefined;
  readonly logLevel: LogLevel;
}

/** `twopc start-node --addr HOST:PORT [--peers A,B] [--data-dir DIR] [--failpoints] [--secret-file PATH] [--log-level LEVEL] [--config FILE]` */
export async function runStartNode(raw: RawFlags): Promise<ExitCode> {
  const flags = parseStartNodeFlags(withConfigFile(raw));
  // A StartupError (busy port, unwritable data dir) reaches the top level as one line, exit 2.
  const handle = await startNode({
    addr: flags.addr,
    peers: flags.peers,
    dataDir: flags.dataDir,
    failpoints: flags.failpoints,
    logLevel: flags.logLevel,
    ...(flags.secret !== undefined && { secret: flags.secret }),
  });
  printLine(`twopc node ${flags.addr} serving (data ${flags.dataDir})`);
  await onShutdownSignal();
  await stopWithin(handle, node_stop_wait_ms);
  return exit_codes.ok;
}

export function parseStartNodeFlags(raw: RawFlags, env: NodeJS.ProcessEnv = process.env): StartNodeFlags {
  if (raw['addr'] === undefined) throw new UsageError('--addr HOST:PORT is required');
  const { addr, host } = parseAddr(flagText(raw['addr'], '--addr'));
  const peers = raw['peers'] === undefined ? [] : parseAddrList(flagText(raw['peers'], '--peers'), '--peers');
  if (peers.includes(addr)) throw new UsageError(`--peers must not include the node's own address ${addr}`);
  const secret = readSecret(optionalText(raw['secretFile'], '--secret-file'), env);
  requireSecretFor(host, secret, isLoopbackHost(host));
  return {
    addr,
    peers,
    dataDir: resolve(optionalText(raw['dataDir'], '--data-dir') ?? data_dir_default),
    failpoints: flagSwitch(raw['failpoints'], env['TWOPC_FAILPOINTS']),
    secret,
    logLevel: parseLogLevel(raw['logLevel'], env),
  };
}

async function stopWithin(handle: NodeHandle, wait_ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      warnLine(`twopc: node ${handle.addr} did not stop within ${wait_ms} ms; exiting anyway`);
      resolve();
    }, wait_ms);
  });
  try {
    await Promise.race([handle.stop(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

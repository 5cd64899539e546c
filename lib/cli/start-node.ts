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
  /** The host to listen on, when not the host of `addr`. */
  readonly bind: string | undefined;
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly failpoints: boolean;
  readonly secret: string | undefined;
  readonly clientKeysFile: string | undefined;
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
    ...(flags.bind !== undefined && { bind: flags.bind }),
    failpoints: flags.failpoints,
    logLevel: flags.logLevel,
    ...(flags.secret !== undefined && { secret: flags.secret }),
    ...(flags.clientKeysFile !== undefined && { clientKeysFile: flags.clientKeysFile }),
  });
  printLine(`twopc node ${flags.addr} serving (pid ${process.pid}, data ${flags.dataDir})`);
  await onShutdownSignal();
  await stopWithin(handle, node_stop_wait_ms);
  return exit_codes.ok;
}

export function parseStartNodeFlags(raw: RawFlags, env: NodeJS.ProcessEnv = process.env): StartNodeFlags {
  const addr_text = raw['addr'] === undefined ? nonEmpty(env['TWOPC_ADDR']) : flagText(raw['addr'], '--addr');
  if (addr_text === undefined) throw new UsageError('--addr HOST:PORT is required (or env TWOPC_ADDR)');
  const { addr, host: name_host } = parseAddr(addr_text);
  const bind = raw['bind'] === undefined ? undefined : parseBindHost(flagText(raw['bind'], '--bind'));
  const host = bind ?? name_host;
  // The node's own address may be listed: then every node of a cluster (a StatefulSet's pods)
  // can be given the same list.
  const peers = raw['peers'] === undefined ? [] : parseAddrList(flagText(raw['peers'], '--peers'), '--peers').filter((peer) => peer !== addr);
  const secret = readSecret(optionalText(raw['secretFile'], '--secret-file'), env);
  requireSecretFor(host, secret, isLoopbackHost(host));
  return {
    addr,
    bind,
    peers,
    dataDir: resolve(optionalText(raw['dataDir'], '--data-dir') ?? data_dir_default),
    failpoints: flagSwitch(raw['failpoints'], env['TWOPC_FAILPOINTS']),
    secret,
    clientKeysFile: pathOrUndefined(optionalText(raw['clientKeysFile'], '--client-keys-file') ?? nonEmpty(env['TWOPC_CLIENT_KEYS_FILE'])),
    logLevel: parseLogLevel(raw['logLevel'], env),
  };
}

/** `--bind HOST`: a host name or IP address (IPv6 with or without brackets), no port. */
function parseBindHost(text: string): string {
  const host = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host) && !/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(host)) {
    throw new UsageError(`bad --bind "${text}": expected a host name or IP address, without a port (the port is --addr's)`);
  }
  return host;
}

function pathOrUndefined(path: string | undefined): string | undefined {
  return path === undefined ? undefined : resolve(path);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
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

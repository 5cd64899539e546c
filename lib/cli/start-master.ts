import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, type RawFlags } from './flags.ts';
import { answerReason } from '../client/answer.ts';
import { probeRole, reportedMaster, type RoleProbe } from '../client/role.ts';
import { cliTransport } from './http.ts';
import { resolveNodes } from './nodes.ts';
import { printLine, warnLine } from './output.ts';

/** How long `start-master` waits for agreement when `--timeout` is not given. */
export const start_master_timeout_default_ms = 10_000;
const start_master_timeout_max_ms = 60 * 60 * 1_000;
/** Timeout of each join or role call. */
export const start_master_call_timeout_ms = 2_000;
/** Pause between agreement polls. */
export const agreement_poll_interval_ms = 200;

export interface StartMasterFlags {
  readonly nodes: readonly string[];
  readonly timeout_ms: number;
}

/** The master every node agrees on. */
export interface Agreement {
  readonly master: string;
  readonly epoch: number | null;
}

/** `twopc start-master --nodes A,B,C [--timeout MS]` */
export async function runStartMaster(raw: RawFlags): Promise<ExitCode> {
  const flags = parseStartMasterFlags(raw);
  const deadline = Date.now() + flags.timeout_ms;
  const probes = await requireAllReachable(flags.nodes);
  for (const warning of joinWarnings(flags.nodes, probes)) warnLine(`twopc: warning: ${warning}`);
  await joinAll(flags.nodes);
  const agreement = await awaitAgreement(flags.nodes, deadline);
  printLine(`master: ${agreement.master} (epoch ${agreement.epoch ?? '?'})`);
  return exit_codes.ok;
}

/** `--nodes`, else env `TWOPC_NODES`: `start-master` has no default membership to guess. */
export function parseStartMasterFlags(raw: RawFlags, env: NodeJS.ProcessEnv = process.env): StartMasterFlags {
  if (raw['nodes'] === undefined && (env['TWOPC_NODES'] ?? '').trim() === '') throw new UsageError('--nodes A,B,C is required (or env TWOPC_NODES)');
  return {
    nodes: resolveNodes(raw['nodes'], env),
    timeout_ms: raw['timeout'] === undefined
      ? start_master_timeout_default_ms
      : flagInteger(raw['timeout'], '--timeout', 1, start_master_timeout_max_ms),
  };
}

/** Refuses to change any membership unless every node answers first; returns their answers. */
export async function requireAllReachable(nodes: readonly string[]): Promise<readonly RoleProbe[]> {
  const probes = await Promise.all(nodes.map((addr) => probeRole(cliTransport(), addr, start_master_call_timeout_ms)));
  const down = probes.filter((probe) => probe.kind === 'down');
  if (down.length > 0) {
    throw new CliError(`unreachable: ${down.map((probe) => `${probe.addr} (${probe.kind === 'down' ? probe.reason : ''})`).join(', ')}`, exit_codes.usage);
  }
  return probes;
}

/**
 * Pure: what the user should know before these nodes are joined. Two nodes tolerate no
 * failure (one down leaves the other without a majority). A node that ran as a cluster of
 * one and took writes has a history the others do not share: joining it does not merge it.
 */
export function joinWarnings(nodes: readonly string[], probes: readonly RoleProbe[]): readonly string[] {
  const warnings: string[] = [];
  if (nodes.length === 2) {
    warnings.push('two nodes tolerate no failure: with one down the other has no majority and refuses writes (three nodes survive one failure)');
  }
  const alone = probes.flatMap((probe) => {
    if (probe.kind !== 'answered') return [];
    const members = probe.role.nodes?.map((node) => node.addr) ?? [probe.addr];
    const writes = probe.role.last_sequence ?? 0;
    return members.length === 1 && writes > 0 ? [`${probe.addr} (${writes} commit${writes === 1 ? '' : 's'})`] : [];
  });
  if (alone.length > 0 && nodes.length > 1) {
    warnings.push(`${alone.join(', ')} already took writes as a cluster of one: joining does not merge separate histories (join fresh nodes or former members; see docs/OPERATING.md, "Details and defaults")`);
  }
  return warnings;
}

/** Tells every node about every other one: `POST N/cluster/join {addr: M}` for each pair. */
export async function joinAll(nodes: readonly string[]): Promise<void> {
  for (const node of nodes) {
    for (const member of nodes) {
      if (member !== node) await joinOne(node, member);
    }
  }
}

async function joinOne(node: string, member: string): Promise<void> {
  const result = await cliTransport().request(node, '/cluster/join', { method: 'POST', body: { addr: member }, timeout_ms: start_master_call_timeout_ms });
  if (result.kind !== 'answer') throw new CliError(`node ${node} unreachable: ${result.reason}`, exit_codes.usage);
  if (result.status < 200 || result.status >= 300) {
    throw new CliError(`node ${node} refused to add ${member}: ${answerReason(result.status, result.body)}`, exit_codes.usage);
  }
}

/** Polls `/role` on every node until all name the same master at the same epoch, and it calls itself MASTER. */
export async function awaitAgreement(nodes: readonly string[], deadline: number): Promise<Agreement> {
  let lastView = 'no answers yet';
  while (Date.now() < deadline) {
    const probes = await Promise.all(nodes.map((addr) => probeRole(cliTransport(), addr, start_master_call_timeout_ms)));
    const agreement = agreedMaster(probes);
    if (agreement !== undefined) return agreement;
    lastView = describeViews(probes);
    await sleep(Math.max(0, Math.min(agreement_poll_interval_ms, deadline - Date.now())));
  }
  throw new CliError(`the nodes did not agree on a master in time (${lastView})`, exit_codes.unknown);
}

function agreedMaster(probes: readonly RoleProbe[]): Agreement | undefined {
  const masters = new Set<string>();
  for (const probe of probes) {
    if (probe.kind === 'down') throw new CliError(`node ${probe.addr} unreachable: ${probe.reason}`, exit_codes.usage);
    masters.add(reportedMaster(probe.role) ?? '');
  }
  const [master] = masters;
  if (masters.size !== 1 || master === undefined || master === '') return undefined;
  // Agreement is one master, which calls itself MASTER, at one epoch on every node.
  const epochs = new Set(probes.map((probe) => (probe.kind === 'answered' ? probe.role.epoch ?? null : null)));
  const [epoch] = epochs;
  if (epochs.size !== 1 || epoch === undefined) return undefined;
  const own = probes.find((probe) => probe.kind === 'answered' && probe.role.addr === master);
  if (own !== undefined && (own.kind !== 'answered' || own.role.role !== 'MASTER')) return undefined;
  return { master, epoch };
}

function describeViews(probes: readonly RoleProbe[]): string {
  return probes
    .map((probe) => (probe.kind === 'down' ? `${probe.addr}: down` : `${probe.addr}: master ${reportedMaster(probe.role) ?? 'none'}`))
    .join(', ');
}

/**
 * etcd (Debian package `etcd-server`) as a row of the systems table: three members on
 * loopback (free client and peer ports, a fresh temp data dir each, default durability:
 * every write fsynced by a majority), loaded through its JSON gateway (`POST /v3/kv/put`)
 * on the leader, found with `POST /v3/maintenance/status`. Stopped with SIGTERM (SIGKILL
 * after a grace) and its data removed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnedProcess } from '../../process-cluster/owned-process.ts';
import { findFreePorts } from '../../util/free-ports.ts';
import { noteRetry, retryOnPortClash } from '../../util/port-clash.ts';
import { waitUntil } from '../../util/wait-until.ts';
import { call } from '../http.ts';
import { findExecutable } from '../installed.ts';
import { etcd_put } from '../workloads.ts';
import type { RunningSystem, SystemSpec } from './system.ts';

export const etcd_members = 3;
/** How long the members may take to elect a leader that accepts a write. */
const etcd_ready_timeout_ms = 30_000;
const etcd_probe_timeout_ms = 1_000;
/** SIGTERM first; a leader whose peers are gone may wait this long before it exits. */
const etcd_stop_grace_ms = 2_000;

export function findEtcd(): string | undefined {
  return findExecutable('etcd');
}

function etcdVersion(etcd: string): string | null {
  try {
    return execFileSync(etcd, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]?.trim() ?? null;
  } catch {
    return null;
  }
}

/** etcd's environment: ours without ETCD_* settings, which would override the flags. */
function etcdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ETCD_')));
}

interface Member {
  readonly name: string;
  readonly client_addr: string;
  readonly peer_url: string;
}

function memberArgs(member: Member, data_dir: string, initial_cluster: string, token: string): readonly string[] {
  const client_url = `http://${member.client_addr}`;
  return [
    '--name', member.name,
    '--data-dir', join(data_dir, member.name),
    '--listen-client-urls', client_url,
    '--advertise-client-urls', client_url,
    '--listen-peer-urls', member.peer_url,
    '--initial-advertise-peer-urls', member.peer_url,
    '--initial-cluster', initial_cluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', token,
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    '--log-level', 'error',
  ];
}

/** The leader's client address once every member names the same leader and it took a write. */
async function findLeader(members: readonly Member[], processes: readonly OwnedProcess[]): Promise<string> {
  return waitUntil('an etcd leader that accepts a write', async () => {
    const exited = processes.findIndex((child) => !child.running);
    if (exited >= 0) throw new Error(`etcd member ${members[exited]?.name} exited: ${processes[exited]?.printed.trim().slice(-1_000)}`);
    const statuses = await Promise.all(members.map((member) => call(member.client_addr, 'POST', '/v3/maintenance/status', {}, etcd_probe_timeout_ms)));
    const leaders = new Set(statuses.map((status) => (status.status === 200 ? String(status.body?.leader ?? '0') : '0')));
    const [leader] = leaders;
    if (leaders.size !== 1 || leader === undefined || leader === '0') return undefined;
    const index = statuses.findIndex((status) => String(status.body?.header?.member_id) === leader);
    const addr = members[index]?.client_addr;
    if (addr === undefined) return undefined;
    const put = await call(addr, 'POST', '/v3/kv/put', JSON.parse(etcd_put.body('bench-ready', 0, 0)), etcd_probe_timeout_ms);
    return put.status === 200 ? addr : undefined;
  }, etcd_ready_timeout_ms);
}

async function startEtcd(etcd: string, note: (text: string) => void): Promise<RunningSystem> {
  const ports = await findFreePorts(etcd_members * 2);
  const members: Member[] = Array.from({ length: etcd_members }, (_, i) => ({
    name: `member-${i}`,
    client_addr: `127.0.0.1:${ports[i]}`,
    peer_url: `http://127.0.0.1:${ports[etcd_members + i]}`,
  }));
  const data_dir = mkdtempSync(join(tmpdir(), 'twopc-bench-etcd-'));
  const initial_cluster = members.map((member) => `${member.name}=${member.peer_url}`).join(',');
  const token = `twopc-bench-${process.pid}-${Date.now().toString(36)}`;
  note(`starting ${etcd_members} etcd members on ${members.map((member) => member.client_addr).join(', ')}`);
  const processes = members.map((member) => new OwnedProcess({ command: etcd, args: memberArgs(member, data_dir, initial_cluster, token), env: etcdEnv(), output_kept_chars: 8_000 }));
  const stop = async () => {
    await Promise.all(processes.map((child) => child.stop('SIGTERM', etcd_stop_grace_ms)));
    rmSync(data_dir, { recursive: true, force: true });
  };
  try {
    const addr = await findLeader(members, processes);
    return { addr, members: members.map((member) => member.client_addr), data_dir, pids: () => processes.flatMap((child) => (child.running && child.pid !== undefined ? [child.pid] : [])), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** etcd's rows; `etcd` is its binary (default: found on PATH), null when not installed. */
export function etcdSystem(etcd: string | null = findEtcd() ?? null): SystemSpec {
  return {
    system: 'etcd',
    label: `etcd, ${etcd_members} members`,
    members: etcd_members,
    workload: etcd_put,
    hot_keys: false,
    unavailable: async () => (etcd === null ? 'etcd is not installed (Debian package etcd-server)' : undefined),
    version: () => (etcd === null ? null : etcdVersion(etcd)),
    start: (note) => {
      if (etcd === null) throw new Error('etcd is not installed');
      return retryOnPortClash(() => startEtcd(etcd, note), noteRetry(note));
    },
  };
}

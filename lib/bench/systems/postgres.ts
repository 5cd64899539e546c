/**
 * PostgreSQL 15 (Debian package `postgresql-15`) as a row of the systems table: three
 * servers on loopback, each `initdb`'d into a fresh temp dir and started on a free port with
 * its default durability (fsync, synchronous_commit on) and prepared transactions enabled.
 * PostgreSQL refuses to run as root, so as root its processes run as the `postgres` user.
 *
 * The load reaches it through a small HTTP front in the bench process (postgres-front.ts)
 * that takes twopc's `POST /transactions` body and commits it on all three servers with
 * two-phase commit from the Node `pg` client, so wrk drives it exactly as it drives twopc.
 * Stopped with SIGINT (fast shutdown; SIGKILL after a grace) and its data removed.
 */
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnedProcess } from '../../process-cluster/owned-process.ts';
import { findFreePorts } from '../../util/free-ports.ts';
import { noteRetry, retryOnPortClash } from '../../util/port-clash.ts';
import { waitUntil } from '../../util/wait-until.ts';
import { findExecutable } from '../installed.ts';
import { unique_keys } from '../workloads.ts';
import { loadPg, startPostgresFront, type PgModule } from './postgres-front.ts';
import type { RunningSystem, SystemSpec } from './system.ts';

export const postgres_servers = 3;
/** The major version issue 13 compares; another installed one is used only when it is missing. */
const postgres_major_preferred = 15;
const postgres_ready_timeout_ms = 60_000;
const postgres_stop_grace_ms = 5_000;
/** Prepared transactions each server may hold at once: at least the front's connections. */
const max_prepared_transactions = 128;
const max_connections = 128;

export interface PostgresInstall {
  readonly initdb: string;
  readonly postgres: string;
}

/** Its user and group when this process is root (PostgreSQL will not run as root). */
interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** PostgreSQL's server binaries: Debian's /usr/lib/postgresql/<major>/bin (15 first), else on PATH. */
export function findPostgres(): PostgresInstall | null {
  const debian = '/usr/lib/postgresql';
  const majors = existsSync(debian) ? readdirSync(debian).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
  const ordered = [...majors.filter((major) => Number(major) === postgres_major_preferred), ...majors.filter((major) => Number(major) !== postgres_major_preferred)];
  const dirs = ordered.map((major) => join(debian, major, 'bin'));
  const initdb = findExecutable('initdb', dirs);
  const postgres = findExecutable('postgres', dirs);
  return initdb === undefined || postgres === undefined ? null : { initdb, postgres };
}

function postgresVersion(install: PostgresInstall): string | null {
  try {
    return execFileSync(install.postgres, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The `postgres` account from /etc/passwd, when this process is root; null when not root. */
function runAs(): RunAs | null | 'no postgres user' {
  if (process.getuid?.() !== 0) return null;
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('postgres:'));
    const [, , uid, gid] = line?.split(':') ?? [];
    return uid === undefined || gid === undefined ? 'no postgres user' : { uid: Number(uid), gid: Number(gid) };
  } catch {
    return 'no postgres user';
  }
}

function serverEnv(): NodeJS.ProcessEnv {
  // Nothing of ours (PGDATA, PGPORT, …) may steer the servers; the C locale keeps initdb quiet.
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
}

function ownedBy(user: RunAs | null, cwd: string) {
  return { ...(user !== null && { uid: user.uid, gid: user.gid }), cwd };
}

async function initdb(install: PostgresInstall, dir: string, user: RunAs | null, cwd: string): Promise<void> {
  const child = new OwnedProcess({
    command: install.initdb,
    args: ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    env: serverEnv(),
    output_kept_chars: 4_000,
    ...ownedBy(user, cwd),
  });
  await child.exited;
  if (child.exit_code !== 0) throw new Error(`initdb ${dir} failed (exit ${child.exit_code}): ${child.printed.trim().slice(-1_000)}`);
}

function startServer(install: PostgresInstall, dir: string, port: number, user: RunAs | null, cwd: string): OwnedProcess {
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections,
    max_prepared_transactions,
    fsync: 'on',
    synchronous_commit: 'on',
    log_min_messages: 'warning',
  };
  const args = ['-D', dir, '-p', String(port), ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  return new OwnedProcess({ command: install.postgres, args, env: serverEnv(), output_kept_chars: 8_000, ...ownedBy(user, cwd) });
}

async function startPostgres(install: PostgresInstall, user: RunAs | null, pg: PgModule, note: (text: string) => void): Promise<RunningSystem> {
  const [front_port, ...ports] = await findFreePorts(postgres_servers + 1);
  const data_dir = mkdtempSync(join(tmpdir(), 'twopc-bench-postgres-'));
  const dirs = ports.map((_, i) => join(data_dir, `server-${i}`));
  if (user !== null) chownSync(data_dir, user.uid, user.gid);
  const servers: OwnedProcess[] = [];
  let front: Awaited<ReturnType<typeof startPostgresFront>> | undefined;
  const stop = async () => {
    await front?.close();
    await Promise.all(servers.map((server) => server.stop('SIGINT', postgres_stop_grace_ms)));
    rmSync(data_dir, { recursive: true, force: true });
  };
  try {
    note(`initdb of ${postgres_servers} servers`);
    await Promise.all(dirs.map((dir) => initdb(install, dir, user, data_dir)));
    note(`starting ${postgres_servers} servers on ports ${ports.join(', ')}`);
    dirs.forEach((dir, i) => servers.push(startServer(install, dir, ports[i] ?? 0, user, data_dir)));
    const addrs = ports.map((port) => `127.0.0.1:${port}`);
    await waitUntil('every PostgreSQL server to accept a connection', async () => {
      const exited = servers.findIndex((server) => !server.running);
      if (exited >= 0) throw new Error(`postgres on ${addrs[exited]} exited: ${servers[exited]?.printed.trim().slice(-1_000)}`);
      return (await Promise.all(addrs.map((addr) => canConnect(pg, addr)))).every(Boolean);
    }, postgres_ready_timeout_ms, 100);
    if (front_port === undefined) throw new Error('no free port for the PostgreSQL front');
    front = await startPostgresFront(pg, addrs, front_port);
    return {
      addr: front.addr,
      members: addrs,
      data_dir,
      pids: () => servers.flatMap((server) => (server.running && server.pid !== undefined ? [server.pid] : [])),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function canConnect(pg: PgModule, addr: string): Promise<boolean> {
  const [host, port] = addr.split(':');
  const client = new pg.Client({ host, port: Number(port), user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PostgreSQL's rows; `install` is its binaries (default: found), null when not installed. */
export function postgresSystem(install: PostgresInstall | null = findPostgres()): SystemSpec {
  let pg: PgModule | undefined;
  return {
    system: 'postgres',
    label: `PostgreSQL, ${postgres_servers} servers`,
    members: postgres_servers,
    workload: unique_keys,
    hot_keys: false,
    unavailable: async () => {
      if (install === null) return `PostgreSQL is not installed (Debian package postgresql-${postgres_major_preferred})`;
      if (runAs() === 'no postgres user') return 'PostgreSQL refuses to run as root and there is no postgres user to run it as';
      pg = await loadPg();
      return pg === undefined ? 'the pg client library is not installed (a devDependency of twopc: npm ci)' : undefined;
    },
    version: () => (install === null ? null : postgresVersion(install)),
    start: async (note) => {
      const user = runAs();
      if (install === null || pg === undefined || user === 'no postgres user') throw new Error('PostgreSQL is not available here');
      const loaded = pg;
      return retryOnPortClash(() => startPostgres(install, user, loaded, note), noteRetry(note));
    },
  };
}


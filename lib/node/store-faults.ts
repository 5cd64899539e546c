/**
 * A node whose store fails stops counting as alive. A store error (SQLite's codes, which the
 * driver puts on the error) is one of two kinds:
 * - the disk cannot persist (`SQLITE_IOERR*` as from fsync EIO, `SQLITE_FULL`, read-only or
 *   unopenable files): the node leaves the alive set (`/health` 503 `store-failed`, saying
 *   why), steps down if it was master, votes on nothing, and every heartbeat tries one small
 *   durable write; once one lands it catches up what it missed and serves again by itself;
 * - the file is damaged (`SQLITE_CORRUPT*`, `SQLITE_NOTADB`): the node leaves the alive set
 *   for good; a restart runs the start-up check, which refuses the file and names it.
 *
 * `disk-write` and `disk-full` (failpoints, `--failpoints` only) make every store write fail
 * as an fsync EIO or a full disk would, until turned off: how tests and `twopc chaos` make a
 * disk fail without a tmpfs.
 */
import type { NodeStores } from '../storage/stores.ts';
import type { NodeContext } from './context.ts';
import type { Failpoints } from './failpoints.ts';

export interface StoreFault {
  readonly reason: string;
  /** The disk may recover (I/O error, full): the node probes it and rejoins by itself. */
  readonly transient: boolean;
}

const transient_codes = /^SQLITE_(IOERR|FULL|READONLY|CANTOPEN)/;
const damaged_codes = /^SQLITE_(CORRUPT|NOTADB)/;

/** The store fault an error is, if it is one (pure: reads the error's `code` and message). */
export function classifyStoreFault(error: unknown): StoreFault | undefined {
  const code = typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && damaged_codes.test(code)) return { reason: `store damaged: ${code}: ${message}`, transient: false };
  if (code !== undefined && transient_codes.test(code)) return { reason: `store cannot persist: ${code}: ${message}`, transient: true };
  return undefined;
}

/**
 * If `error` is a store fault, take this node out of the alive set (once) and say why.
 * Returns whether it was one. The master steps down on its next heartbeat.
 */
export function noteStoreFault(context: NodeContext, error: unknown): boolean {
  const fault = classifyStoreFault(error);
  if (fault === undefined) return false;
  const { state } = context;
  if (state.phase === 'stopping') return true;
  if (state.store_fault === undefined) context.log.warn('store-failed', { reason: fault.reason, epoch: state.epoch });
  state.store_fault = fault;
  state.phase = 'store-failed';
  state.accepting_writes = false;
  return true;
}

/** An error as SQLite raises it when fsync fails, or (`SQLITE_FULL`) when the disk is full. */
export class DiskWriteError extends Error {
  override readonly name = 'DiskWriteError';

  constructor(
    message: string,
    readonly code: 'SQLITE_IOERR_FSYNC' | 'SQLITE_FULL' = 'SQLITE_IOERR_FSYNC',
  ) {
    super(message);
  }
}

/**
 * The stores with the `disk-write` failpoint in front of every write: armed with `abort`,
 * each write throws `DiskWriteError` before it reaches the store.
 */
export function withDiskFaults(stores: NodeStores, failpoints: Failpoints): NodeStores {
  const check = () => {
    if (failpoints.isArmed('disk-write')) throw new DiskWriteError('disk I/O error (failpoint disk-write)');
    if (failpoints.isArmed('disk-full')) throw new DiskWriteError('database or disk is full (failpoint disk-full)', 'SQLITE_FULL');
  };
  const { participant_log, decision_log, meta, kv } = stores;
  return {
    kv,
    participant_log: {
      ...bind(participant_log),
      write: (writes, sync) => (check(), participant_log.write(writes, sync)),
      resetReplica: () => (check(), participant_log.resetReplica()),
    },
    decision_log: {
      ...bind(decision_log),
      recordMany: (records) => (check(), decision_log.recordMany(records)),
      withdraw: async (id) => (check(), decision_log.withdraw(id)),
    },
    meta: {
      ...bind(meta),
      writeEpoch: async (epoch) => (check(), meta.writeEpoch(epoch)),
      writeMembers: async (members) => (check(), meta.writeMembers(members)),
      writeGrant: async (grant) => (check(), meta.writeGrant(grant)),
      recordTerm: async (term) => (check(), meta.recordTerm(term)),
      writeLogReset: async (reset) => (check(), meta.writeLogReset(reset)),
      writeForgotThroughEpoch: async (epoch) => (check(), meta.writeForgotThroughEpoch(epoch)),
    },
  };
}

/** Every method of a store object bound to it, own or inherited (the SQLite classes keep theirs on the prototype). */
function bind<T extends object>(store: T): T {
  const bound: Record<string, unknown> = {};
  for (let proto: object | null = store; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const value = (store as Record<string, unknown>)[name];
      if (name !== 'constructor' && typeof value === 'function' && !(name in bound)) bound[name] = (value as (...args: unknown[]) => unknown).bind(store);
    }
  }
  return bound as T;
}

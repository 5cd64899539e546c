/**
 * A simulated node's sick disk: for a while every store write fails as SQLite reports a full
 * disk (ENOSPC: SQLITE_FULL) or an I/O error (EIO: SQLITE_IOERR), rolled back whole as a
 * failed SQLite transaction is; or fsyncs are slow, so asynchronous writes take longer to
 * land. The disk belongs to the node's machine: it stays sick across a crash and restart.
 */
import { DiskWriteError } from '../node/store-faults.ts';

export type DiskFault = 'ENOSPC' | 'EIO' | 'slow-fsync';

export class DiskFaults {
  private failing: Exclude<DiskFault, 'slow-fsync'> | undefined;
  private failing_until_ms = 0;
  private slow_until_ms = 0;
  private slow_extra_ms = 0;

  constructor(private readonly now_ms: () => number) {}

  /** From now on, for `duration_ms`: writes fail (ENOSPC, EIO) or fsyncs take up to `slow_extra_ms` more. */
  inject(fault: DiskFault, duration_ms: number, slow_extra_ms = 0): void {
    if (fault === 'slow-fsync') {
      this.slow_until_ms = this.now_ms() + duration_ms;
      this.slow_extra_ms = slow_extra_ms;
    } else {
      this.failing = fault;
      this.failing_until_ms = this.now_ms() + duration_ms;
    }
  }

  /** Throw as the failing write would, if the disk is failing now. */
  checkWrite(): void {
    if (this.failing === undefined || this.now_ms() >= this.failing_until_ms) return;
    // As better-sqlite3 reports them (the code is what lib/node/store-faults.ts reads).
    throw this.failing === 'ENOSPC' ? new DiskWriteError('database or disk is full', 'SQLITE_FULL') : new DiskWriteError('disk I/O error', 'SQLITE_IOERR_FSYNC');
  }

  /** Extra time an fsync takes now (0 when the disk is healthy). */
  extraFsyncMs(): number {
    return this.now_ms() < this.slow_until_ms ? this.slow_extra_ms : 0;
  }

  /** Healthy again at once. */
  heal(): void {
    this.failing_until_ms = 0;
    this.slow_until_ms = 0;
  }
}

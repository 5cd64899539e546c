/**
 * What one simulated node has on disk: the participant log with the writes (table
 * `transactions`), the coordinator's decisions (table `decisions`), the epoch and the epoch
 * grant (meta), and the replica (kv with each key's sequence). It survives a crash; the node
 * changes it only through `SimNode.persist`, which takes simulated disk time, so a crash in
 * between loses the write. Mirrors lib/storage/*.ts.
 */
import type { CommittedEntry } from '../protocol/messages.ts';
import type { JsonValue, Payload } from '../protocol/payload.ts';
import type { ParticipantState } from '../protocol/states.ts';
import type { EpochGrant } from '../cluster/election.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';

export interface TxRecord {
  readonly id: string;
  readonly state: ParticipantState;
  readonly payload?: Payload;
  readonly sequence?: number;
  readonly coordinator?: string;
  readonly participants?: readonly string[];
  readonly epoch: number;
  readonly updated_at: number;
}

export interface KvEntry {
  readonly value: JsonValue;
  readonly sequence: number;
}

export class DurableStore {
  epoch = 0;
  grant: EpochGrant | undefined;
  readonly records = new Map<string, TxRecord>();
  readonly decisions = new Map<string, DecisionRecord>();
  readonly kv = new Map<string, KvEntry>();

  insertPrepared(record: Omit<TxRecord, 'state'>): void {
    this.records.set(record.id, { ...record, state: 'PREPARED' });
  }

  /**
   * Apply a committed transaction: each key takes the write only if its sequence is newer.
   * A commit supersedes an abort recorded here, with its writes (participant-log.ts: the
   * committed log is the cluster's word on a retried id).
   */
  applyCommit(entry: CommittedEntry & { readonly epoch: number; readonly coordinator?: string; readonly now_ms: number }): void {
    const existing = this.records.get(entry.transaction_id);
    for (const [key, value] of Object.entries(entry.payload)) {
      const held = this.kv.get(key);
      if (held === undefined || held.sequence < entry.sequence) this.kv.set(key, { value, sequence: entry.sequence });
    }
    this.records.set(entry.transaction_id, {
      ...existing,
      id: entry.transaction_id,
      state: 'COMMITTED',
      payload: entry.payload,
      sequence: entry.sequence,
      epoch: existing?.epoch ?? entry.epoch,
      updated_at: entry.now_ms,
      ...(existing?.coordinator === undefined && entry.coordinator !== undefined && { coordinator: entry.coordinator }),
    });
  }

  /** Mark ABORTED; an unknown id is remembered as aborted; a COMMITTED one stays. */
  markAborted(id: string, epoch: number, now_ms: number, coordinator: string | undefined): void {
    const existing = this.records.get(id);
    if (existing === undefined) {
      this.records.set(id, { id, state: 'ABORTED', epoch, updated_at: now_ms, ...(coordinator !== undefined && { coordinator }) });
    } else if (existing.state === 'PREPARED') {
      this.records.set(id, { ...existing, state: 'ABORTED', updated_at: now_ms });
    }
  }

  listPrepared(): readonly TxRecord[] {
    return [...this.records.values()].filter((record) => record.state === 'PREPARED');
  }

  listCommitted(): readonly TxRecord[] {
    return [...this.records.values()].filter((record) => record.state === 'COMMITTED');
  }

  /** The committed log after `after`, by sequence (no paging: the simulation is small). */
  readLog(after: number): readonly CommittedEntry[] {
    return this.listCommitted()
      .filter((record) => record.sequence !== undefined && record.sequence > after && record.payload !== undefined)
      .sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0))
      .map((record) => ({ transaction_id: record.id, sequence: record.sequence ?? 0, payload: record.payload ?? {} }));
  }

  /** COMMIT decisions this node never applied itself (decision-log.ts, listUnapplied). */
  listUnappliedDecisions(): readonly string[] {
    return [...this.decisions.values()].filter((d) => d.decision === 'COMMIT' && this.records.get(d.id)?.state === 'PREPARED').map((d) => d.id);
  }

  withdrawDecision(id: string): void {
    const decision = this.decisions.get(id);
    if (!decision) return;
    const { sequence: _dropped, ...rest } = decision;
    this.decisions.set(id, { ...rest, decision: 'ABORT' });
  }

  /** What a crash that lost unsynced PREPARED rows would leave (a deliberate bug). */
  forgetPrepared(): void {
    for (const record of this.listPrepared()) this.records.delete(record.id);
  }
}

import type { Selectable } from 'kysely';
import type { Db } from './database.ts';
import type { TransactionsTable } from './schema.ts';
import type { Payload } from '../protocol/payload.ts';
import type { ParticipantState } from '../protocol/states.ts';
import type { CommittedEntry } from '../protocol/messages.ts';
import { assert } from '../util/assert.ts';

/** One transaction as this node, a participant, holds it on disk. */
export interface ParticipantRecord {
  readonly id: string;
  readonly state: ParticipantState;
  /** The writes; absent for an abort remembered before any prepare arrived. */
  readonly payload?: Payload;
  readonly sequence?: number;
  readonly coordinator?: string;
  readonly epoch: number;
  readonly participants?: readonly string[];
  readonly updated_at: number;
}

export interface PreparedInput {
  readonly id: string;
  readonly payload: Payload;
  readonly coordinator?: string;
  readonly epoch: number;
  readonly participants?: readonly string[];
  readonly now_ms: number;
}

/**
 * Where a participant's state is persisted. Each method is one short SQLite transaction,
 * durable when it returns (WAL, synchronous=FULL).
 */
export class ParticipantLog {
  constructor(private readonly db: Db) {}

  async find(id: string): Promise<ParticipantRecord | undefined> {
    const row = await this.db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async listPrepared(): Promise<readonly ParticipantRecord[]> {
    const rows = await this.db.selectFrom('transactions').selectAll().where('state', '=', 'PREPARED').execute();
    return rows.map(toRecord);
  }

  /** Record a prepared transaction with its writes. The caller holds its keys' locks. */
  async insertPrepared(input: PreparedInput): Promise<void> {
    await this.db
      .insertInto('transactions')
      .values({
        id: input.id,
        state: 'PREPARED',
        payload: JSON.stringify(input.payload),
        sequence: null,
        coordinator: input.coordinator ?? null,
        epoch: input.epoch,
        participants: input.participants ? JSON.stringify(input.participants) : null,
        updated_at: input.now_ms,
      })
      .execute();
  }

  /**
   * Apply a committed transaction's writes and mark it COMMITTED, in one local transaction.
   * Works for a transaction this node prepared and for one it learns from the log while
   * catching up. Each key takes the write only if `sequence` is newer than what it holds,
   * so committed transactions may be applied in any order and replicas still converge.
   */
  async applyCommit(entry: CommittedEntry & { readonly epoch: number; readonly coordinator?: string; readonly now_ms: number }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('transactions').select('state').where('id', '=', entry.transaction_id).executeTakeFirst();
      assert(existing?.state !== 'ABORTED', `transaction ${entry.transaction_id} committed here after it was aborted`);
      for (const [key, value] of Object.entries(entry.payload)) {
        const text = value === null ? null : JSON.stringify(value);
        await trx
          .insertInto('kv')
          .values({ key, value: text, sequence: entry.sequence })
          .onConflict((oc) =>
            oc.column('key').doUpdateSet({ value: text, sequence: entry.sequence }).where('kv.sequence', '<', entry.sequence),
          )
          .execute();
      }
      await trx
        .insertInto('transactions')
        .values({
          id: entry.transaction_id,
          state: 'COMMITTED',
          payload: JSON.stringify(entry.payload),
          sequence: entry.sequence,
          coordinator: entry.coordinator ?? null,
          epoch: entry.epoch,
          participants: null,
          updated_at: entry.now_ms,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({ state: 'COMMITTED', sequence: entry.sequence, updated_at: entry.now_ms }),
        )
        .execute();
    });
  }

  /** Mark a transaction ABORTED; for an unknown id this remembers the abort. */
  async markAborted(id: string, epoch: number, now_ms: number, coordinator?: string): Promise<void> {
    await this.db
      .insertInto('transactions')
      .values({ id, state: 'ABORTED', payload: null, sequence: null, coordinator: coordinator ?? null, epoch, participants: null, updated_at: now_ms })
      .onConflict((oc) => oc.column('id').doUpdateSet({ state: 'ABORTED', updated_at: now_ms }).where('transactions.state', '=', 'PREPARED'))
      .execute();
  }

  /** Every committed sequence above `after`, ascending: how a node finds its contiguous prefix. */
  async listCommittedSequences(after: number): Promise<readonly number[]> {
    const rows = await this.db
      .selectFrom('transactions')
      .select('sequence')
      .where('state', '=', 'COMMITTED')
      .where('sequence', '>', after)
      .orderBy('sequence')
      .execute();
    return rows.map((row) => row.sequence).filter((s): s is number => s !== null);
  }

  async maxCommittedSequence(): Promise<number> {
    const row = await this.db
      .selectFrom('transactions')
      .select((eb) => eb.fn.max('sequence').as('max'))
      .where('state', '=', 'COMMITTED')
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  /** A page of the committed log after `after`, for a node catching up. */
  async readLog(after: number, limit: number): Promise<readonly CommittedEntry[]> {
    const rows = await this.db
      .selectFrom('transactions')
      .select(['id', 'sequence', 'payload'])
      .where('state', '=', 'COMMITTED')
      .where('sequence', '>', after)
      .orderBy('sequence')
      .limit(limit)
      .execute();
    return rows.map((row) => {
      assert(row.sequence !== null && row.payload !== null, `committed transaction ${row.id} lacks sequence or payload`);
      return { transaction_id: row.id, sequence: row.sequence, payload: JSON.parse(row.payload) as Payload };
    });
  }
}

function toRecord(row: Selectable<TransactionsTable>): ParticipantRecord {
  return {
    id: row.id,
    state: row.state,
    epoch: row.epoch,
    updated_at: row.updated_at,
    ...(row.payload !== null && { payload: JSON.parse(row.payload) as Payload }),
    ...(row.sequence !== null && { sequence: row.sequence }),
    ...(row.coordinator !== null && { coordinator: row.coordinator }),
    ...(row.participants !== null && { participants: JSON.parse(row.participants) as string[] }),
  };
}

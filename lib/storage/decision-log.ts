import type { Selectable } from 'kysely';
import type { DecisionsTable } from './schema.ts';
import type { Db, Sqlite } from './database.ts';
import { assert } from '../util/assert.ts';
import type { Decision } from '../protocol/states.ts';
import type { DecisionStore } from './stores.ts';

/** A coordinator's durable decision for one transaction. */
export interface DecisionRecord {
  readonly id: string;
  readonly decision: Decision;
  /** Set for COMMIT only. */
  readonly sequence?: number;
  readonly epoch: number;
  readonly participants: readonly string[];
  readonly created_at: number;
}

/** Where a coordinator persists its decisions, before any commit or abort is sent. */
export class DecisionLog implements DecisionStore {
  private readonly record_many: ((records: readonly DecisionRecord[]) => void) | undefined;
  /** `find` through one prepared statement: a restarted node's in-doubt batch views hundreds at once. */
  private readonly find_statement: { get(id: string): unknown } | undefined;

  constructor(
    private readonly db: Db,
    sqlite?: Sqlite,
  ) {
    if (sqlite) {
      const insert = sqlite.prepare('insert into decisions (id, decision, sequence, epoch, participants, created_at) values (?, ?, ?, ?, ?, ?)');
      this.record_many = sqlite.transaction((records: readonly DecisionRecord[]) => {
        // A round's decisions share one participants array: its text is built once.
        let participants: readonly string[] | undefined;
        let participants_text = '';
        for (const r of records) {
          if (r.participants !== participants) {
            participants = r.participants;
            participants_text = JSON.stringify(participants);
          }
          insert.run(r.id, r.decision, r.sequence ?? null, r.epoch, participants_text, r.created_at);
        }
      });
      this.find_statement = sqlite.prepare('select * from decisions where id = ?');
    }
  }

  /** Persist a batch's decisions in one SQLite transaction (one fsync): all or none. */
  recordMany(records: readonly DecisionRecord[]): void {
    assert(this.record_many !== undefined, 'the hot path needs the raw SQLite handle');
    if (records.length > 0) this.record_many(records);
  }

  async record(record: DecisionRecord): Promise<void> {
    await this.db
      .insertInto('decisions')
      .values({
        id: record.id,
        decision: record.decision,
        sequence: record.sequence ?? null,
        epoch: record.epoch,
        participants: JSON.stringify(record.participants),
        created_at: record.created_at,
      })
      .execute();
  }

  async find(id: string): Promise<DecisionRecord | undefined> {
    const row = this.find_statement
      ? (this.find_statement.get(id) as Selectable<DecisionsTable> | undefined)
      : await this.db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      decision: row.decision,
      epoch: row.epoch,
      participants: JSON.parse(row.participants) as string[],
      created_at: row.created_at,
      ...(row.sequence !== null && { sequence: row.sequence }),
    };
  }

  /**
   * COMMIT decisions this node made but never applied to its own replica: after a restart
   * it does not know whether anyone else applied them.
   */
  async listUnapplied(): Promise<readonly { readonly id: string; readonly sequence?: number }[]> {
    const rows = await this.db
      .selectFrom('decisions')
      .innerJoin('transactions', 'transactions.id', 'decisions.id')
      .select(['decisions.id', 'decisions.sequence'])
      .where('decisions.decision', '=', 'COMMIT')
      .where('transactions.state', '=', 'PREPARED')
      .execute();
    return rows.map((row) => ({ id: row.id, ...(row.sequence !== null && { sequence: row.sequence }) }));
  }

  /** Replace a COMMIT decision nobody applied with ABORT (see RecoveryService.reconcile). */
  async withdraw(id: string): Promise<void> {
    await this.db.updateTable('decisions').set({ decision: 'ABORT', sequence: null }).where('id', '=', id).execute();
  }
}

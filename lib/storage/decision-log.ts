import type { Db } from './database.ts';
import type { Decision } from '../protocol/states.ts';

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
export class DecisionLog {
  constructor(private readonly db: Db) {}

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
    const row = await this.db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
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

  async maxSequence(): Promise<number> {
    const row = await this.db
      .selectFrom('decisions')
      .select((eb) => eb.fn.max('sequence').as('max'))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }
}

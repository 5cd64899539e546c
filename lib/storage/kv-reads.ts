import type { Db } from './database.ts';
import type { JsonValue } from '../protocol/payload.ts';
import type { KvReader } from './stores.ts';

export interface KvItem {
  readonly key: string;
  readonly value: JsonValue;
  readonly sequence: number;
}

/** Committed data as clients read it; tombstones (deleted keys) are invisible. */
export class KvReads implements KvReader {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<KvItem | undefined> {
    const row = await this.db
      .selectFrom('kv')
      .selectAll()
      .where('key', '=', key)
      .where('value', 'is not', null)
      .executeTakeFirst();
    return row && row.value !== null ? { key: row.key, value: JSON.parse(row.value) as JsonValue, sequence: row.sequence } : undefined;
  }

  /** Up to `limit` live keys after `after` (exclusive) in key order, and whether more follow. */
  async page(after: string | undefined, limit: number): Promise<{ readonly items: readonly KvItem[]; readonly more: boolean }> {
    let query = this.db.selectFrom('kv').selectAll().where('value', 'is not', null);
    if (after !== undefined) query = query.where('key', '>', after);
    const rows = await query.orderBy('key').limit(limit + 1).execute();
    const items = rows.slice(0, limit).map((row) => ({ key: row.key, value: JSON.parse(row.value ?? 'null') as JsonValue, sequence: row.sequence }));
    return { items, more: rows.length > limit };
  }
}

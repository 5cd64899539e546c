import type { Db } from './database.ts';

/** The node's durable scalars: the highest epoch it has seen and its membership list. */
export class MetaStore {
  constructor(private readonly db: Db) {}

  async readEpoch(): Promise<number> {
    return Number((await this.read('epoch')) ?? 0);
  }

  async writeEpoch(epoch: number): Promise<void> {
    await this.write('epoch', String(epoch));
  }

  async readMembers(): Promise<readonly string[] | undefined> {
    const text = await this.read('members');
    return text === undefined ? undefined : (JSON.parse(text) as string[]);
  }

  async writeMembers(members: readonly string[]): Promise<void> {
    await this.write('members', JSON.stringify(members));
  }

  private async read(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('name', '=', name).executeTakeFirst();
    return row?.value;
  }

  private async write(name: string, value: string): Promise<void> {
    await this.db
      .insertInto('meta')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute();
  }
}

import type { Db } from './database.ts';
import type { EpochGrant } from '../cluster/election.ts';
import type { NodeMetaStore } from './stores.ts';

/** One epoch this node led. */
export interface Term {
  readonly epoch: number;
  readonly master: string;
  readonly since: number;
}

/**
 * The node's durable scalars: the highest epoch it has seen, its membership list, the last
 * epoch grant it gave a candidate, and the terms it led.
 */
export class MetaStore implements NodeMetaStore {
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

  async readGrant(): Promise<EpochGrant | undefined> {
    const text = await this.read('grant');
    return text === undefined ? undefined : (JSON.parse(text) as EpochGrant);
  }

  async writeGrant(grant: EpochGrant): Promise<void> {
    await this.write('grant', JSON.stringify(grant));
  }

  async recordTerm(term: Term): Promise<void> {
    await this.db.insertInto('terms').values(term).onConflict((oc) => oc.column('epoch').doNothing()).execute();
  }

  async listTerms(): Promise<readonly Term[]> {
    return this.db.selectFrom('terms').selectAll().orderBy('epoch').execute();
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

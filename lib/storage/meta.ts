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
 * epoch grant it gave a candidate, the terms it led, how many times it started, and whether a
 * repair wiped its committed log that it has not pulled again yet.
 */
export class MetaStore implements NodeMetaStore {
  constructor(private readonly db: Db) {}

  async readEpoch(): Promise<number> {
    return Number((await this.read('epoch')) ?? 0);
  }

  /** Never lowers it: two adoptions racing may land in either order (lib/storage/stores.ts). */
  async writeEpoch(epoch: number): Promise<void> {
    await this.db
      .insertInto('meta')
      .values({ name: 'epoch', value: String(epoch) })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: String(epoch) }).where((eb) => eb(eb.cast<number>('meta.value', 'integer'), '<', epoch)))
      .execute();
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

  /** Count one more start of this node on this data directory; returns the count, this one included. */
  async countStart(): Promise<number> {
    const starts = Number((await this.read('starts')) ?? 0) + 1;
    await this.write('starts', String(starts));
    return starts;
  }

  async recordTerm(term: Term): Promise<void> {
    await this.db.insertInto('terms').values(term).onConflict((oc) => oc.column('epoch').doNothing()).execute();
  }

  async listTerms(): Promise<readonly Term[]> {
    return this.db.selectFrom('terms').selectAll().orderBy('epoch').execute();
  }

  async readLogReset(): Promise<boolean> {
    return (await this.read('log_reset')) === '1';
  }

  async writeLogReset(reset: boolean): Promise<void> {
    await this.write('log_reset', reset ? '1' : '0');
  }

  async readForgotThroughEpoch(): Promise<number | undefined> {
    const text = await this.read('forgot_through_epoch');
    return text === undefined ? undefined : Number(text);
  }

  async writeForgotThroughEpoch(epoch: number): Promise<void> {
    await this.write('forgot_through_epoch', String(epoch));
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

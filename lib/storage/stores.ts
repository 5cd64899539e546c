/**
 * The durable stores a node's services read and write, as interfaces: production wires the
 * SQLite classes next to this file, the simulation (lib/simulation/memory-stores.ts) keeps
 * exactly what a store transaction committed in memory, surviving a simulated crash.
 *
 * A method that returns (or whose promise settles) has made its write durable.
 */
import type { CommittedEntry } from '../protocol/messages.ts';
import type { EpochGrant } from '../cluster/election.ts';
import type { ParticipantRecord, ParticipantWrites } from './participant-log.ts';
import type { DecisionRecord } from './decision-log.ts';
import type { Term } from './meta.ts';
import type { KvItem } from './kv-reads.ts';
import type { DigestMark, KvCheckPage } from './replica-digest.ts';
import type { LocalApplySync } from '../two-phase-commit/local-apply-sync.ts';

/** How many transactions are committed here, and the highest sequence among them (0: none). */
export interface CommittedSummary {
  readonly count: number;
  readonly max: number;
}

/** This node as a participant: table `transactions` and the replica (`kv`) it feeds. */
export interface ParticipantStore {
  findNow(id: string): ParticipantRecord | undefined;
  /** `findNow` of each id, in order, read together (a prepare batch's lookups). */
  findManyNow(ids: readonly string[]): readonly (ParticipantRecord | undefined)[];
  find(id: string): Promise<ParticipantRecord | undefined>;
  /**
   * Apply a batch of prepares, commits and aborts durably, all or none. `unsynced` (the
   * coordinator's own apply of commits durable elsewhere, lib/two-phase-commit/local-apply-sync.ts):
   * visible at once, on disk after the next synced write; a power loss before that loses it.
   */
  write(writes: ParticipantWrites, sync?: LocalApplySync): void;
  listPrepared(): Promise<readonly ParticipantRecord[]>;
  summarizeCommitted(): CommittedSummary;
  listCommittedSequences(after: number): Promise<readonly number[]>;
  readLog(after: number, limit: number): Promise<readonly CommittedEntry[]>;
  /** `from` (undefined: the origin) extended over the committed log through `through` (lib/storage/replica-digest.ts), `each` hearing every mark on the way; throws on a gap. */
  digestThrough(from: DigestMark | undefined, through: number, each?: (mark: DigestMark) => void): DigestMark;
  /** Check up to `limit` kv rows after key `after` (in key order) against the log entries that wrote them; `next` is where to go on. */
  checkKv(after: string | undefined, limit: number): KvCheckPage;
  /** Forget the replica durably (kv and every COMMITTED transaction), all or none: a clean copy is pulled next. */
  resetReplica(): void;
}

/** This node as a coordinator: table `decisions`. */
export interface DecisionStore {
  /** Persist a round's decisions durably, all or none. */
  recordMany(records: readonly DecisionRecord[]): void;
  find(id: string): Promise<DecisionRecord | undefined>;
  listUnapplied(): Promise<readonly { readonly id: string; readonly sequence?: number }[]>;
  withdraw(id: string): Promise<void>;
}

/** The node's durable scalars: epoch, membership, the epoch grant it gave, the terms it led. */
export interface NodeMetaStore {
  readEpoch(): Promise<number>;
  /**
   * Raise the stored epoch to `epoch`; a lower one leaves it as it is. The epoch a node
   * reports (`enforced_epoch` in its views) must never be lost to a later write of an older one.
   */
  writeEpoch(epoch: number): Promise<void>;
  readMembers(): Promise<readonly string[] | undefined>;
  writeMembers(members: readonly string[]): Promise<void>;
  readGrant(): Promise<EpochGrant | undefined>;
  writeGrant(grant: EpochGrant): Promise<void>;
  recordTerm(term: Term): Promise<void>;
  listTerms(): Promise<readonly Term[]>;
  /** Whether a repair wiped the committed log and no pull of it has completed since (NodeState `log_reset`). */
  readLogReset(): Promise<boolean>;
  writeLogReset(reset: boolean): Promise<void>;
  /** The newest epoch of a round a repair may have made this replica forget (NodeState `forgot_through_epoch`). */
  readForgotThroughEpoch(): Promise<number | undefined>;
  writeForgotThroughEpoch(epoch: number): Promise<void>;
}

/** Committed data as clients read it. */
export interface KvReader {
  get(key: string): Promise<KvItem | undefined>;
  page(after: string | undefined, limit: number): Promise<{ readonly items: readonly KvItem[]; readonly more: boolean }>;
}

/** Every store of one node. */
export interface NodeStores {
  readonly participant_log: ParticipantStore;
  readonly decision_log: DecisionStore;
  readonly meta: NodeMetaStore;
  readonly kv: KvReader;
}

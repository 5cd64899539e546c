/**
 * How a node gets back to the truth: pulling committed transactions it missed from a peer
 * (catch-up and anti-entropy), and resolving PREPARED transactions whose decision never
 * arrived (cooperative termination, rules in lib/two-phase-commit/termination.ts).
 */
import type { CommittedEntry, TransactionView } from '../protocol/messages.ts';
import { reconcileDecision, type PeerAnswer } from '../two-phase-commit/termination.ts';
import { inBatches, judgeBatch, planQuestions, splitResolutions } from '../two-phase-commit/in-doubt-batch.ts';
import { batch_max_transactions } from '../protocol/messages.ts';
import type { NodeContext } from './context.ts';
import type { ParticipantService } from './participant-service.ts';
import type { ParticipantRecord } from '../storage/participant-log.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import { assert } from '../util/assert.ts';

/** A PREPARED transaction and the round that prepared it. */
export interface InDoubtRound {
  readonly transaction_id: string;
  readonly coordinator?: string;
  readonly participants: readonly string[];
}

/** Committed transactions fetched per catch-up request. */
export const catch_up_page_size = 500;
/** In-doubt transactions resolved together: one question to each peer and one local write per batch. */
export const in_doubt_batch_max = batch_max_transactions;

export class RecoveryService {
  /** Transactions being resolved right now, so two passes never work on one. */
  private readonly resolving = new Set<string>();
  /**
   * COMMIT decisions found on disk at start-up that this node never applied itself: until
   * reconciled they are reported as still in flight, never as decided.
   */
  private readonly unconfirmed = new Map<string, number | undefined>();
  /** When this process first saw each PREPARED transaction (monotonic ms). */
  private readonly first_seen_ms = new Map<string, number>();

  constructor(
    private readonly context: NodeContext,
    private readonly participant: ParticipantService,
    private readonly viewTransaction: (id: string) => Promise<TransactionView>,
  ) {}

  /**
   * Apply every committed transaction `source` has that this node lacks. Returns how many
   * were applied; throws if the source cannot be read.
   */
  async pullLog(source: string): Promise<number> {
    let applied = 0;
    let after = this.context.sequences.applied_through;
    for (;;) {
      const answer = await this.context.client.call<{ entries: CommittedEntry[] }>(
        source,
        'GET',
        `/cluster/log?after=${after}&limit=${catch_up_page_size}`,
        undefined,
        this.context.limits.peer_query_timeout_ms,
      );
      assert(answer.status === 200 && Array.isArray(answer.body?.entries), `catch-up source ${source} answered ${answer.status}`);
      const entries = answer.body.entries;
      applied += await this.participant.learnCommitted(entries);
      for (const entry of entries) after = Math.max(after, entry.sequence);
      if (entries.length < catch_up_page_size) break;
    }
    if (applied > 0) this.context.log.info('caught-up', { source, applied, last_sequence: this.context.sequences.applied_through });
    return applied;
  }

  /** Load the COMMIT decisions this node made in an earlier life but never applied. */
  async loadUnconfirmed(): Promise<void> {
    for (const { id, sequence } of await this.context.decision_log.listUnapplied()) this.unconfirmed.set(id, sequence);
    if (this.unconfirmed.size > 0) this.context.log.warn('unconfirmed-decisions', { transaction_ids: [...this.unconfirmed.keys()] });
  }

  /** A COMMIT decision this node can no longer see through as master (it stepped down). */
  adoptUnconfirmed(id: string, sequence: number | undefined): void {
    this.unconfirmed.set(id, sequence);
    this.context.log.warn('unconfirmed-decisions', { transaction_ids: [id], reason: 'stepped down before another replica applied it' });
  }

  /** The highest sequence of a COMMIT decision here that is neither applied nor withdrawn yet. */
  maxUnconfirmedSequence(): number {
    let max = 0;
    for (const sequence of this.unconfirmed.values()) if (sequence !== undefined && sequence > max) max = sequence;
    return max;
  }

  isUnconfirmed(id: string): boolean {
    return this.unconfirmed.has(id);
  }

  /**
   * A take-over: settle what the cluster can (`reconcile`), then split what is left. A
   * decision whose sequence is above everything known applied is returned for the new term
   * to finish (nobody else can have used its sequence); one whose sequence another
   * transaction took here was applied by nobody reachable, and is withdrawn; one whose
   * sequence only an unreachable peer's last report shows applied stays unconfirmed (that
   * peer may have applied this very decision).
   */
  async settleForTakeOver(known_max_applied: number): Promise<readonly DecisionRecord[]> {
    const { context } = this;
    await this.reconcile();
    const adopted: DecisionRecord[] = [];
    for (const id of [...this.unconfirmed.keys()]) {
      const decision = await context.decision_log.find(id);
      if (decision?.decision !== 'COMMIT' || decision.sequence === undefined) {
        this.unconfirmed.delete(id);
        continue;
      }
      const record = await context.participant_log.find(id);
      if (record?.state === 'COMMITTED') {
        // Applied here meanwhile (the take-over's catch-up brought it from a replica): settled.
      } else if (decision.sequence > known_max_applied && !context.sequences.has(decision.sequence)) {
        adopted.push(decision);
      } else if (context.sequences.has(decision.sequence)) {
        context.log.warn('reconcile-decision', { transaction_id: id, outcome: 'withdraw', reason: `sequence ${decision.sequence} is taken` });
        await context.decision_log.withdraw(id);
        await this.participant.abort({ transaction_id: id });
      } else {
        // Its sequence is known applied only from the last report of a peer that does not
        // answer now, and that peer may be a participant that applied this very decision (its
        // acknowledgement was lost): withdrawing it would give the sequence twice (simulation
        // seed 9701). It stays unconfirmed, reported in max_decided, and this term starts above
        // it (known_max_applied), until reconciliation hears from every participant.
        context.log.warn('reconcile-decision', { transaction_id: id, outcome: 'wait', reason: `sequence ${decision.sequence} is known applied only by an unreachable peer` });
        continue;
      }
      this.unconfirmed.delete(id);
    }
    return adopted.sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  }

  /** Settle every unconfirmed decision the cluster can settle now (termination.ts, `reconcileDecision`). */
  async reconcile(): Promise<void> {
    await Promise.all([...this.unconfirmed.keys()].map((id) => this.reconcileOne(id)));
  }

  private async reconcileOne(id: string): Promise<void> {
    const { context } = this;
    const decision = await context.decision_log.find(id);
    if (!decision) return;
    const answers = await Promise.all(decision.participants.filter((addr) => addr !== context.addr).map((addr) => this.ask(addr, id)));
    const outcome = reconcileDecision(answers);
    context.log.info('reconcile-decision', { transaction_id: id, outcome: outcome.kind, ...('reason' in outcome && { reason: outcome.reason }) });
    if (outcome.kind === 'wait') return;
    if (outcome.kind === 'commit') {
      await this.participant.commit({ transaction_id: id, sequence: outcome.sequence });
    } else {
      await context.decision_log.withdraw(id);
      await this.participant.abort({ transaction_id: id });
      if (context.state.role !== 'MASTER') context.state.max_sequence = context.sequences.max_applied;
    }
    this.unconfirmed.delete(id);
  }

  /**
   * One pass over PREPARED transactions this node has held for `in_doubt_after_ms`. Ages are
   * measured on the monotonic clock from when this process first saw each one, so a wall
   * clock that jumps (either way) neither hurries nor stalls termination.
   */
  async resolveStale(): Promise<void> {
    const { context } = this;
    // A node that has not caught up may lack the very commit that settles a transaction.
    if (context.state.phase !== 'serving') return;
    await this.reconcile();
    const now_ms = context.clock.monotonic_ms();
    const prepared = await context.participant_log.listPrepared();
    const still = new Set(prepared.map((record) => record.id));
    for (const id of this.first_seen_ms.keys()) if (!still.has(id)) this.first_seen_ms.delete(id);
    const due = prepared.filter((record) => {
      const first_seen_ms = this.first_seen_ms.get(record.id) ?? now_ms;
      this.first_seen_ms.set(record.id, first_seen_ms);
      return now_ms - first_seen_ms >= context.limits.in_doubt_after_ms;
    });
    await this.resolveInBatches(due);
  }

  /** Resolve every PREPARED transaction now, whatever its age (a new master's take-over). */
  async resolveAll(): Promise<void> {
    await this.resolveInBatches(await this.context.participant_log.listPrepared());
  }

  /** This node's view of each of `ids`, in order (`POST /cluster/views`). */
  viewTransactions(ids: readonly string[]): Promise<readonly TransactionView[]> {
    return Promise.all(ids.map((id) => this.viewTransaction(id)));
  }

  /**
   * Transactions held PREPARED here whose fate nobody reachable can tell yet, and which may
   * already be committed at a sequence this node cannot learn: their coordinator does not
   * answer, and neither does some other participant of their round — which, if the
   * coordinator delivered its COMMIT there first, applied it. (A coordinator never applies a
   * commit before another participant has, so when only the coordinator is silent, every
   * replica that can hold the sequence answers.)
   */
  async listUnknowableCommits(isReachable: (addr: string) => boolean): Promise<readonly string[]> {
    const { context } = this;
    // Held here, and held by every reachable peer: a round of the other side of a healed
    // partition may be prepared only on peers, with this node no participant of it.
    const held: { readonly holder: string; readonly rounds: readonly InDoubtRound[] }[] = [{ holder: context.addr, rounds: await this.listInDoubtRounds() }];
    const peers = context.state.members.filter((addr) => addr !== context.addr && isReachable(addr));
    held.push(...(await Promise.all(peers.map(async (addr) => ({ holder: addr, rounds: await this.askInDoubtRounds(addr) })))));
    const unknowable = new Set<string>();
    for (const { holder, rounds } of held) {
      for (const round of rounds) {
        const coordinator = round.coordinator;
        if (coordinator === undefined || coordinator === context.addr || isReachable(coordinator)) continue;
        if (round.participants.some((addr) => addr !== coordinator && addr !== holder && addr !== context.addr && !isReachable(addr))) unknowable.add(round.transaction_id);
      }
    }
    return [...unknowable];
  }

  /** This node's PREPARED transactions and their rounds (`GET /cluster/in-doubt`). */
  async listInDoubtRounds(): Promise<readonly InDoubtRound[]> {
    const prepared = await this.context.participant_log.listPrepared();
    return prepared.map((record) => ({
      transaction_id: record.id,
      participants: record.participants ?? [],
      ...(record.coordinator !== undefined && { coordinator: record.coordinator }),
    }));
  }

  private async askInDoubtRounds(addr: string): Promise<readonly InDoubtRound[]> {
    try {
      const answer = await this.context.client.call<{ rounds?: InDoubtRound[] }>(addr, 'GET', '/cluster/in-doubt', undefined, this.context.limits.peer_query_timeout_ms);
      return answer.status === 200 && Array.isArray(answer.body?.rounds) ? answer.body.rounds : [];
    } catch {
      return [];
    }
  }

  /** Resolve `records` (PREPARED here) a batch at a time; ones already being resolved are left to that pass. */
  private async resolveInBatches(records: readonly ParticipantRecord[]): Promise<void> {
    const free = records.filter((record) => !this.resolving.has(record.id) && !this.unconfirmed.has(record.id));
    for (const batch of inBatches(free, in_doubt_batch_max)) await this.resolveBatch(batch);
  }

  /**
   * One batch (lib/two-phase-commit/in-doubt-batch.ts): each peer asked once about the
   * transactions it may know, each transaction judged on its own, the commits and aborts
   * written together.
   */
  private async resolveBatch(records: readonly ParticipantRecord[]): Promise<void> {
    for (const record of records) this.resolving.add(record.id);
    try {
      const { context } = this;
      const own = new Map(await Promise.all(records.map(async (record) => [record.id, await this.viewTransaction(record.id)] as const)));
      // This node decided COMMIT itself: its re-delivery applies it here once another
      // participant has (never before, see `mayApplyLocally`), so termination stays out.
      const open = records.filter((record) => own.get(record.id)?.decision !== 'COMMIT');
      if (open.length === 0) return;
      const members = context.state.members;
      const questions = planQuestions(open, members, context.addr);
      const answers = new Map(await Promise.all([...questions].map(async ([addr, ids]) => [addr, await this.askViews(addr, ids)] as const)));
      const judged = judgeBatch(open, own, answers, members, context.addr);
      for (const { id, resolution } of judged) {
        context.log.info('in-doubt', { transaction_id: id, resolution: resolution.kind, ...('reason' in resolution && { reason: resolution.reason }) });
      }
      const { commits, aborts, fences } = splitResolutions(judged);
      if (commits.length > 0 || aborts.length > 0) await this.participant.decideBatch({ commits: [...commits], aborts: [...aborts] });
      for (const fence of fences) {
        if (await this.fence(fence.id, fence.addrs)) await this.participant.abort({ transaction_id: fence.id });
      }
    } finally {
      for (const record of records) this.resolving.delete(record.id);
    }
  }

  /** `addr`'s views of `ids` by id, or undefined when it does not answer. A peer without `POST /cluster/views` is asked one id at a time. */
  private async askViews(addr: string, ids: readonly string[]): Promise<ReadonlyMap<string, TransactionView> | undefined> {
    try {
      const answer = await this.context.client.call<{ views?: TransactionView[] }>(addr, 'POST', '/cluster/views', { transaction_ids: ids }, this.context.limits.peer_query_timeout_ms);
      const views = answer.body?.views;
      if (answer.status === 200 && Array.isArray(views) && views.length === ids.length) return new Map(ids.map((id, index) => [id, views[index] as TransactionView]));
      if (answer.status !== 404) return undefined;
    } catch {
      return undefined;
    }
    const one_by_one = await Promise.all(ids.map((id) => this.ask(addr, id)));
    if (one_by_one.every((answer) => answer.view === undefined)) return undefined;
    return new Map(one_by_one.flatMap((answer, index) => (answer.view === undefined ? [] : [[ids[index] as string, answer.view] as const])));
  }

  private async ask(addr: string, id: string): Promise<PeerAnswer> {
    try {
      const answer = await this.context.client.call<TransactionView>(addr, 'GET', `/transactions/${encodeURIComponent(id)}`, undefined, this.context.limits.peer_query_timeout_ms);
      return { addr, view: answer.status === 200 ? answer.body : undefined };
    } catch {
      return { addr, view: undefined };
    }
  }

  /** Make participants that never prepared `id` remember an abort; true if all did. */
  private async fence(id: string, addrs: readonly string[]): Promise<boolean> {
    const message = { transaction_id: id, epoch: this.context.state.epoch };
    const results = await Promise.all(
      addrs.map(async (addr) => {
        if (addr === this.context.addr) return (await this.participant.abort(message)).ok;
        try {
          return (await this.context.client.call(addr, 'POST', '/abort', message, this.context.limits.peer_query_timeout_ms)).status === 200;
        } catch {
          return false;
        }
      }),
    );
    return results.every(Boolean);
  }
}

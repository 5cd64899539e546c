/**
 * How a node gets back to the truth: pulling committed transactions it missed from a peer
 * (catch-up and anti-entropy), and resolving PREPARED transactions whose decision never
 * arrived (cooperative termination, rules in lib/two-phase-commit/termination.ts).
 */
import type { CommittedEntry, DecideBatchRequest, TransactionView } from '../protocol/messages.ts';
import { heardAnswer, reconcileDecision, type KeptSequence, type PeerAnswer } from '../two-phase-commit/termination.ts';
import { inBatches, judgeBatch, listFenced, planFences, planQuestions, splitResolutions, type BatchOutcome } from '../two-phase-commit/in-doubt-batch.ts';
import { UnconfirmedDecisions, type Settlement } from '../two-phase-commit/unconfirmed-decisions.ts';
import { listUnknowableRounds, splitForTakeOver, type InDoubtRound } from '../cluster/take-over.ts';
import type { NodeContext } from './context.ts';
import type { DecideBatchAnswer, ParticipantService } from './participant-service.ts';
import type { ParticipantRecord } from '../storage/participant-log.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import { assert } from '../util/assert.ts';

/** Committed transactions fetched per catch-up request. */
export const catch_up_page_size = 500;
/**
 * In-doubt transactions resolved together: one question to each peer and one local write per
 * batch. A master's round holds as many; each question must be answered within
 * `peer_query_timeout_ms` even on a busy machine.
 */
export const in_doubt_batch_max = 256;

export class RecoveryService {
  /** Transactions being resolved right now, so two passes never work on one. */
  private readonly resolving = new Set<string>();
  /**
   * COMMIT decisions found on disk at start-up that this node never applied itself: until
   * reconciled they are reported as still in flight, never as decided.
   */
  private readonly unconfirmed = new UnconfirmedDecisions();
  /** When this process first saw each PREPARED transaction (monotonic ms). */
  private readonly first_seen_ms = new Map<string, number>();
  /** Until the first pass that ran: what it finds was PREPARED before this process started. */
  private first_pass = true;

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
    const { state } = this.context;
    // Only a pull that starts after a repair's wipe holds again what the source holds.
    const after_reset = state.log_reset;
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
    if (after_reset) await this.endLogReset();
    return applied;
  }

  /**
   * A repaired replica holds the log again (a pull after its wipe ended, or its catch-up found
   * no serving peer to pull from): record the newest epoch it may have forgotten a round of
   * (a participant adopts a batch's epoch before it prepares it), then clear `log_reset`.
   */
  async endLogReset(): Promise<void> {
    const { meta, state } = this.context;
    if (!state.log_reset) return;
    await meta.writeForgotThroughEpoch(state.epoch);
    state.forgot_through_epoch = state.epoch;
    await meta.writeLogReset(false);
    state.log_reset = false;
  }

  /**
   * Load the COMMIT decisions this node made in an earlier life but never applied. A copy of
   * each may still be on its way, sent under any term this node led (its first delivery, or a
   * re-send under a later term, pending-delivery.ts): the newest term recorded is the newest
   * epoch such a copy can carry. A term is recorded before anything is sent under it.
   */
  async loadUnconfirmed(): Promise<void> {
    const { context } = this;
    const unapplied = await context.decision_log.listUnapplied();
    if (unapplied.length === 0) return;
    const terms = await context.meta.listTerms();
    const newest_term = Math.max(0, ...terms.filter((term) => term.master === context.addr).map((term) => term.epoch));
    for (const { id, sequence } of unapplied) this.unconfirmed.add(id, sequence, newest_term);
    context.log.warn('unconfirmed-decisions', { transaction_ids: this.unconfirmed.listWaiting(), sent_epoch: newest_term });
  }

  /**
   * A COMMIT decision this node can no longer see through as master (it stepped down, or its
   * take-over's term ended); `sent_epoch` is the newest epoch it may have been sent under.
   */
  adoptUnconfirmed(id: string, sequence: number | undefined, sent_epoch: number, reason = 'stepped down before another replica applied it'): void {
    this.unconfirmed.add(id, sequence, sent_epoch);
    this.context.log.warn('unconfirmed-decisions', { transaction_ids: [id], reason, sent_epoch });
  }

  /** The highest sequence of a COMMIT decision here that is neither applied nor withdrawn yet. */
  maxUnconfirmedSequence(): number {
    return this.unconfirmed.maxSequence();
  }

  /** A COMMIT decision here that may still be withdrawn: views do not show it. */
  isUnconfirmed(id: string): boolean {
    return this.unconfirmed.isMasked(id);
  }

  /**
   * A take-over: settle what the cluster can (`reconcile`), then split what is left
   * (lib/cluster/take-over.ts, `splitForTakeOver`): adopted decisions are returned for the new
   * term to finish, the others stay unconfirmed (a take-over never withdraws one).
   */
  async settleForTakeOver(known_max_applied: number): Promise<readonly DecisionRecord[]> {
    const { context } = this;
    await this.reconcile();
    const adopted: DecisionRecord[] = [];
    for (const id of this.unconfirmed.listWaiting()) {
      const [decision, record] = await Promise.all([context.decision_log.find(id), context.participant_log.find(id)]);
      const split = splitForTakeOver(
        {
          decision,
          applied_here: record?.state === 'COMMITTED',
          sequence_taken_here: decision?.sequence !== undefined && context.sequences.has(decision.sequence),
          still_unconfirmed: this.unconfirmed.isWaiting(id),
        },
        known_max_applied,
      );
      if (split.kind === 'settled') {
        this.unconfirmed.drop(id);
      } else if (split.kind === 'adopt' && decision) {
        this.unconfirmed.adopt(id);
        adopted.push(decision);
      } else if (split.kind === 'wait') {
        context.log.warn('reconcile-decision', { transaction_id: id, outcome: 'wait', reason: split.reason });
      }
    }
    return adopted.sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  }

  /** Settle every unconfirmed decision the cluster can settle now (termination.ts, `reconcileDecision`). */
  async reconcile(): Promise<void> {
    this.unconfirmed.forgetApplied((id) => this.context.participant_log.findNow(id)?.state === 'COMMITTED');
    await Promise.all(this.unconfirmed.listWaiting().map((id) => this.reconcileOne(id)));
  }

  private async reconcileOne(id: string): Promise<void> {
    const { context } = this;
    const decision = await context.decision_log.find(id);
    if (!decision) return;
    const [answers, kept_above] = await Promise.all([
      Promise.all(decision.participants.filter((addr) => addr !== context.addr).map((addr) => this.ask(addr, id))),
      this.listKeptAbove(decision.sequence),
    ]);
    // Looked at again after the awaits: a take-over may have adopted it meanwhile (or
    // re-sent it and handed it back, under a newer epoch).
    const { unconfirmed } = this;
    const outcome = reconcileDecision(answers, {
      still_unconfirmed: unconfirmed.isWaiting(id),
      sent_epoch: Math.max(decision.epoch, unconfirmed.sentEpochOf(id)),
      sequence: decision.sequence,
      sequence_taken_here: decision.sequence !== undefined && context.sequences.has(decision.sequence),
      highest_unsettled_other: unconfirmed.highestUnsettledOther(id),
      term: decision.epoch,
      kept_above,
      caught_up: context.state.phase === 'serving',
    });
    context.log.info('reconcile-decision', { transaction_id: id, outcome: outcome.kind, ...('reason' in outcome && { reason: outcome.reason }) });
    if (outcome.kind === 'commit') {
      await this.settle(id, 'commit', async () => {
        await this.participant.commit({ transaction_id: id, sequence: outcome.sequence });
      });
    } else if (outcome.kind === 'withdraw') {
      await this.settle(id, 'withdraw', async () => {
        await this.withdraw(id);
        if (context.state.role !== 'MASTER') context.state.max_sequence = context.sequences.max_applied;
      });
    }
  }

  /**
   * Sequences above `sequence` this node keeps, each with the term it decided it in: the
   * lowest applied here (a later decision of its run that another replica applied, or
   * another master's), and its adopted decisions. The lowest applied is enough: a term's
   * sequences lie below every later term's, so if one of the decision's own term is applied
   * here above it, the lowest is one.
   */
  private async listKeptAbove(sequence: number | undefined): Promise<readonly KeptSequence[]> {
    if (sequence === undefined) return [];
    const { context } = this;
    const [lowest] = await context.participant_log.readLog(sequence, 1);
    const above = [
      ...(lowest === undefined ? [] : [{ id: lowest.transaction_id, sequence: lowest.sequence }]),
      ...this.unconfirmed.listAdopted().flatMap(({ id, sequence: adopted }) => (adopted !== undefined && adopted > sequence ? [{ id, sequence: adopted }] : [])),
    ];
    return Promise.all(
      above.map(async (kept) => {
        const own = await context.decision_log.find(kept.id);
        // This node's decision at that very sequence (a retry of the id committed elsewhere is not).
        return { sequence: kept.sequence, term: own?.decision === 'COMMIT' && own.sequence === kept.sequence ? own.epoch : undefined };
      }),
    );
  }

  /** Claim `id` (synchronously, so no other pass acts on it), carry `settlement` out, and give it back if that fails. */
  private async settle(id: string, settlement: Settlement, carryOut: () => Promise<void>): Promise<void> {
    if (!this.unconfirmed.claim(id, settlement)) return;
    try {
      await carryOut();
    } catch (error) {
      this.unconfirmed.giveBack(id);
      throw error;
    }
    this.unconfirmed.finish(id);
  }

  private async withdraw(id: string): Promise<void> {
    await this.context.decision_log.withdraw(id);
    await this.participant.abort({ transaction_id: id });
  }

  /**
   * One pass over PREPARED transactions this node has held for `in_doubt_after_ms`. Ages are
   * measured on the monotonic clock from when this process first saw each one, so a wall
   * clock that jumps (either way) neither hurries nor stalls termination. What the first pass
   * finds was prepared before a restart, its decision missed while the node was down: it is
   * due at once.
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
    const seen_now_ms = this.first_pass ? now_ms - context.limits.in_doubt_after_ms : now_ms;
    this.first_pass = false;
    const due = prepared.filter((record) => {
      const first_seen_ms = this.first_seen_ms.get(record.id) ?? seen_now_ms;
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
  async listUnknowableCommits(isReachable: (addr: string) => boolean, forgotThrough: (addr: string) => number | undefined): Promise<readonly string[]> {
    const { context } = this;
    // Held here, and held by every reachable peer: a round of the other side of a healed
    // partition may be prepared only on peers, with this node no participant of it.
    const held: { readonly holder: string; readonly rounds: readonly InDoubtRound[] }[] = [{ holder: context.addr, rounds: await this.listInDoubtRounds() }];
    const peers = context.state.members.filter((addr) => addr !== context.addr && isReachable(addr));
    held.push(...(await Promise.all(peers.map(async (addr) => ({ holder: addr, rounds: await this.askInDoubtRounds(addr) })))));
    return listUnknowableRounds(held, context.addr, isReachable, forgotThrough);
  }

  /** This node's PREPARED transactions and their rounds (`GET /cluster/in-doubt`). */
  async listInDoubtRounds(): Promise<readonly InDoubtRound[]> {
    const prepared = await this.context.participant_log.listPrepared();
    return prepared.map((record) => ({
      transaction_id: record.id,
      participants: record.participants ?? [],
      epoch: record.epoch,
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
    const free = records.filter((record) => !this.resolving.has(record.id) && !this.unconfirmed.isMasked(record.id));
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
      const fenced = fences.length > 0 ? await this.fenceAll(fences) : [];
      if (commits.length > 0 || aborts.length > 0 || fenced.length > 0) await this.participant.decideBatch({ commits: [...commits], aborts: [...aborts, ...fenced] });
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

  /** What every other member says of `id` (undefined views: no answer). */
  async askMembers(id: string): Promise<readonly PeerAnswer[]> {
    const answers = await Promise.all(this.context.state.members.filter((addr) => addr !== this.context.addr).map((addr) => this.ask(addr, id)));
    return answers.map((answer) => heardAnswer(answer));
  }

  private async ask(addr: string, id: string): Promise<PeerAnswer> {
    try {
      const answer = await this.context.client.call<TransactionView>(addr, 'GET', `/transactions/${encodeURIComponent(id)}`, undefined, this.context.limits.peer_query_timeout_ms);
      return { addr, view: answer.status === 200 ? answer.body : undefined };
    } catch {
      return { addr, view: undefined };
    }
  }

  /**
   * Make the participants that never prepared a transaction remember an abort (each
   * participant one message for the whole batch); returns the transactions every participant
   * of whose fence did.
   */
  private async fenceAll(fences: BatchOutcome['fences']): Promise<readonly string[]> {
    const { context } = this;
    const epoch = context.state.epoch;
    const acknowledged = new Map(
      await Promise.all(
        [...planFences(fences)].map(async ([addr, ids]) => {
          const answer = await this.tellAborts(addr, { epoch, commits: [], aborts: [...ids] });
          return [addr, new Set(ids.filter((_, index) => answer?.aborts[index]?.ok === true))] as const;
        }),
      ),
    );
    return listFenced(fences, acknowledged);
  }

  private async tellAborts(addr: string, batch: DecideBatchRequest): Promise<DecideBatchAnswer | undefined> {
    if (addr === this.context.addr) return this.participant.decideBatch(batch);
    try {
      // Over the wire a coordinator message names its sender; a fence of an id never
      // prepared there is taken from any member (lib/two-phase-commit/participant.ts).
      const wire = { ...batch, coordinator: this.context.addr };
      const answer = await this.context.client.call<DecideBatchAnswer>(addr, 'POST', '/decide-batch', wire, this.context.limits.peer_query_timeout_ms);
      return answer.status === 200 && Array.isArray(answer.body?.aborts) ? answer.body : undefined;
    } catch {
      return undefined;
    }
  }

  /** Make `addrs` remember an abort of `id` (a later prepare of it then votes ABORT); gives the ones that did. */
  async rememberAbortAt(id: string, addrs: readonly string[]): Promise<readonly string[]> {
    const epoch = this.context.state.epoch;
    const results = await Promise.all(addrs.map(async (addr) => (await this.tellAborts(addr, { epoch, commits: [], aborts: [id] }))?.aborts[0]?.ok === true));
    return addrs.filter((_, index) => results[index]);
  }
}

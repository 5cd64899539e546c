/**
 * Where a client's transaction is coordinated (the master only): prepare on every alive
 * node in parallel with a timeout, decide with the pure rules in
 * lib/two-phase-commit/coordinator.ts, persist the decision, then deliver it; a participant
 * that misses the decision gets it again until it acknowledges.
 */
import { randomUUID } from 'node:crypto';
import type { AbortRequest, CommitRequest, PrepareRequest, PrepareResponse, SubmitRequest } from '../protocol/messages.ts';
import { decideOutcome, findCommittedSequence, listDecisionRecipients, mayApplyLocally, summarizeVotes, type Ballot, type Outcome } from '../two-phase-commit/coordinator.ts';
import { Sequencer, type Reservation } from './sequencer.ts';
import { hasMajority } from '../cluster/election.ts';
import { PeerUnreachable } from '../transport/http-client.ts';
import { listAlive, type NodeContext } from './context.ts';
import type { ParticipantService } from './participant-service.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import { FailpointAbort } from './failpoints.ts';

export type SubmitAnswer =
  | { readonly http_status: 200; readonly body: { transaction_id: string; status: 'COMMITTED'; sequence: number; participants: readonly string[] } }
  | { readonly http_status: 409; readonly body: { transaction_id: string; status: 'ABORTED'; reason: string; votes: Readonly<Record<string, string>> } }
  | { readonly http_status: 421; readonly body: { error: string; master: string | null } }
  | { readonly http_status: 503; readonly body: { error: string; master: string | null; in_doubt?: true } };

interface PendingDelivery {
  readonly kind: 'commit' | 'abort';
  readonly message: CommitRequest | AbortRequest;
  /** Participants that have not acknowledged yet. */
  readonly addrs: Set<string>;
  /** How many other participants were sent this decision, and how many applied it. */
  readonly remote_recipients: number;
  remote_acks: number;
  /** This node has yet to apply it itself. */
  local_pending: boolean;
  /** A COMMIT's sequence, confirmed once another replica applied it. */
  readonly reservation?: Reservation;
}

export class CoordinatorService {
  /** Rounds collecting votes, by transaction id: a node's view reports them as INIT. */
  private readonly in_flight = new Map<string, Promise<SubmitAnswer>>();
  /** Decisions some participant has not acknowledged yet. */
  private readonly undelivered = new Map<string, PendingDelivery>();
  private delivering = false;
  private readonly sequencer: Sequencer;

  constructor(
    private readonly context: NodeContext,
    private readonly participant: ParticipantService,
    /** Hands a COMMIT decision no other replica applied to reconciliation (RecoveryService). */
    private readonly handOff: (id: string) => void,
  ) {
    this.sequencer = new Sequencer(context.state);
  }

  /**
   * This node stopped being master. A COMMIT it decided that no other replica has applied
   * may be one the new master never learns of (it may even reuse its sequence): it is no
   * longer this node's to finish, but reconciliation's, exactly as after a restart.
   */
  handOffUnconfirmed(): void {
    for (const [id, pending] of this.undelivered) {
      if (isKnownOnlyHere(pending)) {
        this.undelivered.delete(id);
        pending.reservation?.confirm();
        this.handOff(id);
      }
    }
  }

  isInFlight(id: string): boolean {
    return this.in_flight.has(id);
  }

  listInFlight(): readonly string[] {
    return [...this.in_flight.keys()];
  }

  get undelivered_count(): number {
    return this.undelivered.size;
  }

  /** Decided transactions some participant has not acknowledged yet. */
  listUndelivered(): readonly string[] {
    return [...this.undelivered.keys()];
  }

  async submit(request: SubmitRequest): Promise<SubmitAnswer> {
    const { state } = this.context;
    const master = state.master ?? null;
    if (state.role !== 'MASTER') {
      if (master !== null) return { http_status: 421, body: { error: 'not master', master } };
      const error = this.reachesMajority()
        ? 'no master elected yet; retry shortly'
        : 'this node does not reach a majority of the membership: writes are refused until it does (reads are served marked stale)';
      return { http_status: 503, body: { error, master } };
    }
    if (!state.accepting_writes) return { http_status: 503, body: { error: 'master is taking over; retry shortly', master } };
    if (!hasMajority(listAlive(this.context).length, state.members.length)) {
      return { http_status: 503, body: { error: 'no majority of the membership reachable', master } };
    }
    const id = request.transaction_id ?? randomUUID();
    const running = this.in_flight.get(id);
    if (running) return running;
    // Registered before the first await: a second submit of the same id joins this one.
    const round = this.answerOrRun(id, request).finally(() => this.in_flight.delete(id));
    this.in_flight.set(id, round);
    return round;
  }

  private reachesMajority(): boolean {
    const reachable = [...this.context.state.peers.values()].filter((peer) => peer.reachable).length;
    return hasMajority(reachable + 1, this.context.state.members.length);
  }

  private async answerOrRun(id: string, request: SubmitRequest): Promise<SubmitAnswer> {
    return (await this.answerKnown(id)) ?? (await this.context.metrics.timeRound(() => this.runRound(id, request)));
  }

  /** The answer for a transaction this node already decided: resubmitting is idempotent. */
  private async answerKnown(id: string): Promise<SubmitAnswer | undefined> {
    const [decision, record] = await Promise.all([this.context.decision_log.find(id), this.context.participant_log.find(id)]);
    if (decision?.decision === 'COMMIT' && decision.sequence !== undefined && record?.state !== 'PREPARED') {
      return { http_status: 200, body: { transaction_id: id, status: 'COMMITTED', sequence: decision.sequence, participants: decision.participants } };
    }
    if (decision?.decision === 'ABORT') {
      return { http_status: 409, body: { transaction_id: id, status: 'ABORTED', reason: 'aborted earlier', votes: {} } };
    }
    if (record?.state === 'COMMITTED' && record.sequence !== undefined) {
      return { http_status: 200, body: { transaction_id: id, status: 'COMMITTED', sequence: record.sequence, participants: record.participants ?? [] } };
    }
    if (record?.state === 'ABORTED') {
      return { http_status: 409, body: { transaction_id: id, status: 'ABORTED', reason: 'aborted earlier', votes: {} } };
    }
    if (record?.state === 'PREPARED') {
      // An earlier attempt of this very id is in doubt here (its coordinator died, or its
      // commit is not applied anywhere yet): neither a new round nor an answer is honest.
      return { http_status: 503, body: { error: 'transaction is in doubt; retry shortly', master: this.context.state.master ?? null, in_doubt: true } };
    }
    return undefined;
  }

  private async runRound(id: string, request: SubmitRequest): Promise<SubmitAnswer> {
    const { context } = this;
    const epoch = context.state.epoch;
    const started_s = context.metrics.now_s();
    const participants = listAlive(context);
    const prepare: PrepareRequest = { transaction_id: id, payload: request.payload, epoch, coordinator: context.addr, participants: [...participants] };
    const refused = await this.failedAt('before-prepare-send');
    const ballots = refused ? [] : await Promise.all(participants.map((addr) => this.requestVote(addr, prepare)));
    context.metrics.prepare_seconds.observe(context.metrics.now_s() - started_s);
    const failed_after_votes = await this.failedAt('after-prepare-votes');
    // A master that stepped down or saw a newer epoch while collecting votes must not
    // decide COMMIT: the new master may already be handing out sequences.
    const still_master = context.state.role === 'MASTER' && context.state.epoch === epoch;
    let outcome: Outcome =
      refused || failed_after_votes ? { decision: 'ABORT', reason: 'failpoint' } : still_master ? decideOutcome(participants, ballots) : { decision: 'ABORT', reason: 'lost mastership' };
    const committed_at = findCommittedSequence(ballots);
    if (committed_at !== undefined) return this.finishCommittedElsewhere(id, committed_at, epoch, ballots, participants);
    const reservation = outcome.decision === 'COMMIT' ? await this.reserveSequence(epoch) : undefined;
    if (outcome.decision === 'COMMIT' && !reservation) outcome = { decision: 'ABORT', reason: 'lost mastership while waiting for a sequence' };
    const sequence = reservation?.sequence;
    const record: DecisionRecord = {
      id,
      decision: outcome.decision,
      epoch,
      participants,
      created_at: context.clock.now_ms(),
      ...(sequence !== undefined && { sequence }),
    };
    try {
      await context.decision_log.record(record);
    } catch (error) {
      reservation?.cancel();
      throw error;
    }
    context.log.info('decided', { transaction_id: id, decision: outcome.decision, sequence, epoch });
    await context.failpoints.hit('after-decision-persist');
    await context.failpoints.hit('before-decision-send').catch(() => undefined);
    const recipients = listDecisionRecipients(outcome, ballots, participants);
    if (outcome.decision === 'COMMIT' && reservation !== undefined) {
      if (await this.deliverCommit(id, reservation, epoch, recipients)) {
        return { http_status: 200, body: { transaction_id: id, status: 'COMMITTED', sequence: reservation.sequence, participants } };
      }
      return { http_status: 503, body: { error: 'commit decided but no other replica has acknowledged it yet; retry to learn the outcome', master: context.addr, in_doubt: true } };
    }
    await this.deliverAbort(id, epoch, recipients);
    return { http_status: 409, body: { transaction_id: id, status: 'ABORTED', reason: reasonOf(outcome), votes: summarizeVotes(ballots) } };
  }

  /** Stop at a coordinator failpoint; true if it is armed to `abort` this round. */
  private async failedAt(name: 'before-prepare-send' | 'after-prepare-votes'): Promise<boolean> {
    try {
      await this.context.failpoints.hit(name);
      return false;
    } catch (error) {
      if (error instanceof FailpointAbort) return true;
      throw error;
    }
  }

  /**
   * The next sequence, once the previous one is confirmed (lib/node/sequencer.ts), or
   * undefined if that takes longer than a prepare may or this node stopped leading `epoch`.
   */
  private async reserveSequence(epoch: number): Promise<Reservation | undefined> {
    const reservation = await this.sequencer.reserve(this.context.limits.prepare_timeout_ms);
    if (reservation && !(this.context.state.role === 'MASTER' && this.context.state.epoch === epoch)) {
      reservation.cancel();
      return undefined;
    }
    return reservation;
  }

  /**
   * A participant already committed this id, in an earlier round (a client retried it): its
   * fate and sequence are settled. Participants that just prepared it again commit it at
   * that sequence; no new decision and no new sequence are made.
   */
  private async finishCommittedElsewhere(id: string, sequence: number, epoch: number, ballots: readonly Ballot[], participants: readonly string[]): Promise<SubmitAnswer> {
    const ready = ballots.filter((ballot) => ballot.response.status === 'READY').map((ballot) => ballot.addr);
    const message: CommitRequest = { transaction_id: id, sequence, epoch, coordinator: this.context.addr };
    const local = ready.includes(this.context.addr) ? this.participant.commit(message) : undefined;
    const delivery = await this.sendDecision('commit', message, ready.filter((addr) => addr !== this.context.addr));
    await local;
    this.remember({ kind: 'commit', message, addrs: new Set(delivery.missed), remote_recipients: 0, remote_acks: 1, local_pending: false });
    this.context.log.info('committed-earlier', { transaction_id: id, sequence, epoch });
    return { http_status: 200, body: { transaction_id: id, status: 'COMMITTED', sequence, participants } };
  }

  private async requestVote(addr: string, prepare: PrepareRequest): Promise<Ballot> {
    if (addr === this.context.addr) {
      try {
        return { addr, response: await this.participant.prepare(prepare) };
      } catch (error) {
        this.context.log.warn('local-prepare-failed', { transaction_id: prepare.transaction_id, error: String(error) });
        return { addr, response: { status: 'ABORT', reason: 'storage error' } };
      }
    }
    try {
      const answer = await this.context.client.call<PrepareResponse>(addr, 'POST', '/prepare', prepare, this.context.limits.prepare_timeout_ms);
      if (answer.body?.status === 'READY' && answer.status === 200) return { addr, response: { status: 'READY' } };
      if (answer.body?.status === 'ABORT') return { addr, response: answer.body };
      return { addr, response: { status: 'ABORT', reason: `unexpected answer ${answer.status}` } };
    } catch (error) {
      const reason = error instanceof PeerUnreachable && /timeout|abort/i.test(error.cause_message) ? 'prepare timeout' : 'unreachable';
      return { addr, response: { status: 'ABORT', reason } };
    }
  }

  /**
   * Commit on the other participants first and on this node last, and on this node only
   * once another participant has applied it: a commit this node applied is never one only
   * it knows, so after a crash the cluster can always find out (lib/two-phase-commit/coordinator.ts).
   * Until then the client hears 503 `in_doubt`, and re-delivery finishes the job.
   */
  private async deliverCommit(id: string, reservation: Reservation, epoch: number, recipients: readonly string[]): Promise<boolean> {
    const started_s = this.context.metrics.now_s();
    const message: CommitRequest = { transaction_id: id, sequence: reservation.sequence, epoch, coordinator: this.context.addr };
    const remote = recipients.filter((addr) => addr !== this.context.addr);
    const delivery = await this.sendDecision('commit', message, remote);
    const pending: PendingDelivery = {
      kind: 'commit',
      message,
      addrs: new Set(delivery.missed),
      remote_recipients: remote.length,
      remote_acks: delivery.acked.length,
      local_pending: recipients.includes(this.context.addr),
      reservation,
    };
    if (pending.remote_acks > 0) reservation.confirm();
    await this.applyLocallyWhenSafe(pending);
    // A cluster of one: applied here, nobody else to tell.
    if (pending.remote_recipients === 0 && !pending.local_pending) reservation.confirm();
    this.remember(pending);
    this.context.metrics.commit_seconds.observe(this.context.metrics.now_s() - started_s);
    return !pending.local_pending;
  }

  private async deliverAbort(id: string, epoch: number, recipients: readonly string[]): Promise<void> {
    const message: AbortRequest = { transaction_id: id, epoch, coordinator: this.context.addr };
    const local = recipients.includes(this.context.addr) ? this.participant.abort(message) : undefined;
    const delivery = await this.sendDecision('abort', message, recipients.filter((addr) => addr !== this.context.addr));
    await local;
    this.remember({ kind: 'abort', message, addrs: new Set(delivery.missed), remote_recipients: 0, remote_acks: 0, local_pending: false });
  }

  private async applyLocallyWhenSafe(pending: PendingDelivery): Promise<void> {
    if (!pending.local_pending || !mayApplyLocally(pending)) return;
    const answer = await this.participant.commit(pending.message);
    if (!answer.ok) throw new Error(`local commit of ${pending.message.transaction_id} refused: ${answer.error}`);
    pending.local_pending = false;
  }

  /**
   * Send a decision to `addrs` in parallel. `acked` applied it; `missed` gets it again later.
   * A participant that refuses it (4xx: it took a newer epoch) resolves the transaction by
   * asking the cluster, and acknowledges the re-sent decision once it has.
   */
  private async sendDecision(kind: 'commit' | 'abort', message: CommitRequest | AbortRequest, addrs: readonly string[]): Promise<{ acked: readonly string[]; missed: readonly string[] }> {
    let first_commit_seen = false;
    const acked = await Promise.all(
      addrs.map(async (addr) => {
        try {
          const answer = await this.context.client.call(addr, 'POST', `/${kind}`, message, this.context.limits.decision_timeout_ms);
          if (answer.status >= 400 && answer.status < 500) {
            this.context.log.info('decision-refused', { transaction_id: message.transaction_id, peer: addr, status: answer.status, body: answer.body });
          }
          if (answer.status === 200 && kind === 'commit' && !first_commit_seen) {
            first_commit_seen = true;
            await this.context.failpoints.hit('after-first-commit').catch(() => undefined);
          }
          return answer.status === 200;
        } catch {
          return false;
        }
      }),
    );
    return { acked: addrs.filter((_, i) => acked[i]), missed: addrs.filter((_, i) => !acked[i]) };
  }

  private remember(pending: PendingDelivery): void {
    if (pending.addrs.size === 0 && !pending.local_pending) return;
    if (this.context.state.role !== 'MASTER' && isKnownOnlyHere(pending)) {
      pending.reservation?.confirm();
      this.handOff(pending.message.transaction_id);
      return;
    }
    this.undelivered.set(pending.message.transaction_id, pending);
    this.context.log.warn('decision-undelivered', { transaction_id: pending.message.transaction_id, kind: pending.kind, addrs: [...pending.addrs], local_pending: pending.local_pending });
  }

  /** One pass of re-delivery; the node calls it every `decision_retry_interval_ms`. */
  async redeliver(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      await Promise.all([...this.undelivered].map(([id, pending]) => this.redeliverOne(id, pending)));
    } finally {
      this.delivering = false;
    }
  }

  private async redeliverOne(id: string, pending: PendingDelivery): Promise<void> {
    const { members } = this.context.state;
    for (const addr of pending.addrs) if (!members.includes(addr)) pending.addrs.delete(addr);
    const delivery = await this.sendDecision(pending.kind, pending.message, [...pending.addrs]);
    for (const addr of delivery.acked) pending.addrs.delete(addr);
    pending.remote_acks += delivery.acked.length;
    if (pending.remote_acks > 0) pending.reservation?.confirm();
    await this.applyLocallyWhenSafe(pending);
    if (pending.addrs.size === 0 && !pending.local_pending) this.undelivered.delete(id);
  }
}

/** A COMMIT no other replica has applied yet, and this one not either. */
function isKnownOnlyHere(pending: PendingDelivery): boolean {
  return pending.kind === 'commit' && pending.local_pending && pending.remote_acks === 0;
}

function reasonOf(outcome: Outcome): string {
  return outcome.decision === 'ABORT' ? outcome.reason : '';
}

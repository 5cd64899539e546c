/**
 * The coordinator's side of a simulated node (lib/node/coordinator-service.ts): prepare on
 * every alive node, decide with the real pure rules (decideOutcome, findCommittedSequence,
 * isInDoubtElsewhere, listDecisionRecipients), take the sequence from the sequencer (a run of
 * one, confirmed once `acks_needed` remote replicas applied it, as RunConfirmation),
 * persist the decision before sending it, commit the others first and apply locally only
 * once `mayApplyLocally` says so, and re-deliver until everyone acknowledged. A retried id
 * some participant already committed is finished at that sequence, with no new decision;
 * one another round holds in doubt gets no decision at all (503, termination settles it).
 * A new term re-drives this node's earlier COMMIT decisions it adopted at take-over
 * (`redrive`), one held run in the sequencer.
 * Unlike the real master there is no group commit: each transaction is its own round.
 */
import type { AbortRequest, CommitRequest, PrepareRequest, PrepareResponse, SubmitRequest } from '../protocol/messages.ts';
import { decideOutcome, findCommittedSequence, isInDoubtElsewhere, listDecisionRecipients, mayApplyLocally, type Ballot, type Outcome } from '../two-phase-commit/coordinator.ts';
import { hasMajority } from '../cluster/election.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import type { DecisionAnswer, SubmitAnswer } from './rpc.ts';
import { forAllInParallel, type SimNode } from './sim-node.ts';
import { SimSequencer, type SimReservation } from './sim-sequencer.ts';
import { RunConfirmation } from '../node/sequencer.ts';
import { assert } from '../util/assert.ts';
import { highestUnappliedSequence, isKnownOnlyHere, isUnappliedElsewhere, type PendingDelivery } from '../node/pending-delivery.ts';

export class SimCoordinator {
  /** Rounds collecting votes (or finishing), with everyone waiting for their answer. */
  private readonly in_flight = new Map<string, ((answer: SubmitAnswer) => void)[]>();
  private readonly undelivered = new Map<string, PendingDelivery>();
  private delivering = false;
  /** COMMIT decisions on disk whose first delivery is still under way, with their sequences (coordinator-service.ts, first_delivery). */
  private readonly first_delivery = new Map<string, number>();
  private readonly sequencer: SimSequencer;

  constructor(private readonly node: SimNode) {
    this.sequencer = new SimSequencer(node);
  }

  /** A COMMIT this node decided that no other replica is known to have applied yet (coordinator-service.ts, isKnownOnlyHere). */
  isUnappliedElsewhere(id: string): boolean {
    const pending = this.undelivered.get(id);
    return this.first_delivery.has(id) || (pending !== undefined && isUnappliedElsewhere(pending));
  }

  isInFlight(id: string): boolean {
    return this.in_flight.has(id);
  }

  get undelivered_count(): number {
    return this.undelivered.size;
  }

  /** Stepped down: COMMITs nobody else applied go to reconciliation (handOffUnconfirmed). */
  handOffUnconfirmed(): void {
    for (const [id, pending] of this.undelivered) {
      if (isKnownOnlyHere(pending)) {
        this.undelivered.delete(id);
        pending.run?.release();
        this.node.recovery.adoptUnconfirmed(id, (pending.message as CommitRequest).sequence);
      }
    }
  }

  /** The highest sequence of a COMMIT this node decided and has not applied itself yet (coordinator-service.ts, maxUndeliveredSequence). */
  maxUndeliveredSequence(): number {
    return highestUnappliedSequence(this.first_delivery, this.undelivered);
  }

  submit(request: SubmitRequest, reply: (answer: SubmitAnswer) => void): void {
    const { state } = this.node;
    if (state.role !== 'MASTER') {
      return reply(state.master === undefined ? { http_status: 503, error: 'no master elected yet', master: undefined } : { http_status: 421, master: state.master });
    }
    if (!state.accepting_writes) return reply({ http_status: 503, error: 'master is taking over', master: state.master });
    if (!hasMajority(this.node.listAlive().length, this.node.members.length)) return reply({ http_status: 503, error: 'no majority', master: state.master });
    const id = request.transaction_id ?? `${this.node.addr}-${this.node.world.now_ms}`;
    const waiting = this.in_flight.get(id);
    if (waiting) return void waiting.push(reply);
    this.in_flight.set(id, [reply]);
    const finish = (answer: SubmitAnswer): void => {
      const waiters = this.in_flight.get(id) ?? [];
      this.in_flight.delete(id);
      for (const waiter of waiters) waiter(answer);
    };
    const known = this.answerKnown(id);
    if (known) return finish(known);
    this.runRound(id, request, finish);
  }

  /** The answer for a transaction already decided or settled here. */
  private answerKnown(id: string): SubmitAnswer | undefined {
    const { store } = this.node;
    const decision = store.decisions.get(id);
    const record = store.records.get(id);
    if (decision?.decision === 'COMMIT' && decision.sequence !== undefined && record?.state !== 'PREPARED') return { http_status: 200, transaction_id: id, sequence: decision.sequence };
    if (decision?.decision === 'ABORT') return { http_status: 409, transaction_id: id, reason: 'aborted earlier' };
    if (record?.state === 'COMMITTED' && record.sequence !== undefined) return { http_status: 200, transaction_id: id, sequence: record.sequence };
    if (record?.state === 'ABORTED') return { http_status: 409, transaction_id: id, reason: 'aborted earlier' };
    if (record?.state === 'PREPARED') return { http_status: 503, error: 'in doubt', master: this.node.state.master };
    return undefined;
  }

  private runRound(id: string, request: SubmitRequest, finish: (answer: SubmitAnswer) => void): void {
    const { node } = this;
    const epoch = node.epoch;
    const participants = node.listAlive();
    node.world.recordRound(epoch, node.addr);
    const prepare: PrepareRequest = { transaction_id: id, payload: request.payload, epoch, coordinator: node.addr, participants: [...participants] };
    node.note(`round ${id} epoch=${epoch} participants=${participants.join(',')}`);
    forAllInParallel<string, Ballot>(participants, (addr, done) => this.requestVote(addr, prepare, done), (ballots) => {
      const still_master = node.state.role === 'MASTER' && node.epoch === epoch;
      const voted: Outcome = still_master ? decideOutcome(participants, ballots) : { decision: 'ABORT', reason: 'lost mastership' };
      const committed_at = findCommittedSequence(ballots);
      if (committed_at !== undefined) return this.finishCommittedElsewhere(id, committed_at, epoch, ballots, finish);
      // Another round holds this id in doubt: no decision here; termination settles it.
      if (isInDoubtElsewhere(ballots)) {
        node.note(`in-doubt-elsewhere ${id} epoch=${epoch}`);
        return finish({ http_status: 503, error: 'an earlier attempt is in doubt', master: node.addr });
      }
      const decide = (reservation: SimReservation | undefined): void => {
        const outcome: Outcome = voted.decision === 'COMMIT' && !reservation ? { decision: 'ABORT', reason: 'lost mastership while waiting for a sequence' } : voted;
        const sequence = reservation?.sequence;
        const record: DecisionRecord = { id, decision: outcome.decision, epoch, participants, created_at: node.world.now_ms, ...(sequence !== undefined && { sequence }) };
        node.persist(`decision ${id}`, () => node.store.decisions.set(id, record), () => {
          // Decided and not yet delivered: reported in `max_decided` from this moment on.
          if (sequence !== undefined) this.first_delivery.set(id, sequence);
          node.note(`decided ${id} ${outcome.decision}${sequence !== undefined ? ` seq=${sequence}` : ''}${outcome.decision === 'ABORT' ? ` (${outcome.reason})` : ''}`);
          const recipients = listDecisionRecipients(participants);
          if (outcome.decision === 'COMMIT' && reservation !== undefined) {
            const remote_participants = participants.filter((addr) => addr !== node.addr).length;
            const acks_needed = Math.min(remote_participants, Math.ceil(node.members.length / 2));
            this.deliverCommit(id, reservation, acks_needed, epoch, recipients, (applied_here) => {
              finish(applied_here ? { http_status: 200, transaction_id: id, sequence: reservation.sequence } : { http_status: 503, error: 'commit decided, in doubt', master: node.addr });
            });
          } else {
            this.deliverAbort(id, epoch, recipients, () => finish({ http_status: 409, transaction_id: id, reason: outcome.decision === 'ABORT' ? outcome.reason : '' }));
          }
        });
      };
      if (voted.decision === 'COMMIT') this.reserveSequence(epoch, decide);
      else decide(undefined);
    });
  }

  /**
   * The next sequence once the previous one is confirmed, or undefined if that takes longer
   * than a prepare may or this node stopped leading `epoch` meanwhile (coordinator-service.ts).
   */
  private reserveSequence(epoch: number, then: (reservation: SimReservation | undefined) => void): void {
    const { node } = this;
    this.sequencer.reserve(node.limits.prepare_timeout_ms, (reservation) => {
      if (reservation && !(node.state.role === 'MASTER' && node.epoch === epoch)) {
        reservation.cancel();
        return then(undefined);
      }
      then(reservation);
    });
  }

  /**
   * A participant already committed this id in an earlier round (a client retried it): the
   * READY voters commit it at that sequence; no new decision, no new sequence
   * (coordinator-service.ts, finishCommittedElsewhere).
   */
  private finishCommittedElsewhere(id: string, sequence: number, epoch: number, ballots: readonly Ballot[], finish: (answer: SubmitAnswer) => void): void {
    const { node } = this;
    const ready = ballots.filter((ballot) => ballot.response.status === 'READY').map((ballot) => ballot.addr);
    const message: CommitRequest = { transaction_id: id, sequence, epoch, coordinator: node.addr };
    const remote = ready.filter((addr) => addr !== node.addr);
    node.note(`committed-earlier ${id} seq=${sequence} ready=${ready.join(',')}`);
    forAllInParallel<string, readonly string[]>(
      ready.includes(node.addr) ? ['local', 'remote'] : ['remote'],
      (part, done) => {
        if (part === 'local') return node.participant.commit(message, () => done([]));
        this.sendDecision('commit', message, remote, (_acked, missed) => done(missed));
      },
      (results) => {
        const missed = results.flat();
        this.remember({ kind: 'commit', message, addrs: new Set(missed), remote_recipients: 0, remote_acks: 1, local_pending: false });
        finish({ http_status: 200, transaction_id: id, sequence });
      },
    );
  }

  private requestVote(addr: string, prepare: PrepareRequest, done: (ballot: Ballot) => void): void {
    const { node } = this;
    if (addr === node.addr) return node.participant.prepare(prepare, (response) => done({ addr, response }));
    node.call(addr, 'prepare', prepare, node.limits.prepare_timeout_ms, (reply) => {
      if (reply.ok) return done({ addr, response: reply.body });
      const response: PrepareResponse = { status: 'ABORT', reason: reply.error === 'timeout' ? 'prepare timeout' : 'unreachable' };
      done({ addr, response });
    });
  }

  private deliverCommit(id: string, reservation: SimReservation, acks_needed: number, epoch: number, recipients: readonly string[], then: (applied_here: boolean) => void): void {
    const { node } = this;
    const message: CommitRequest = { transaction_id: id, sequence: reservation.sequence, epoch, coordinator: node.addr };
    const remote = recipients.filter((addr) => addr !== node.addr);
    const local = recipients.includes(node.addr);
    const send = (): void =>
      this.sendDecision('commit', message, remote, (acked, missed) => {
        const run = new RunConfirmation(reservation, 1, acks_needed);
        const pending: PendingDelivery = { kind: 'commit', message, addrs: new Set(missed), remote_recipients: remote.length, remote_acks: 0, local_pending: local && !node.bugs.apply_locally_first, run };
        countAcks(pending, acked.length);
        this.applyLocallyWhenSafe(pending, epoch, (refused) => {
          this.first_delivery.delete(id);
          if (refused) {
            // The real round throws (deliver fails before `remember`): the decision is handed
            // to reconciliation, as after a restart, and the run released (coordinator-service.ts, runBatch).
            if (!this.undelivered.has(id)) node.recovery.adoptUnconfirmed(id, reservation.sequence);
            run.release();
            return then(false);
          }
          // No remote participant: released after the local apply (RunConfirmation, acks_needed 0).
          if (acks_needed === 0) run.release();
          this.remember(pending);
          then(!pending.local_pending);
        });
      });
    if (local && node.bugs.apply_locally_first) return node.participant.commit(message, () => send());
    send();
  }

  private deliverAbort(id: string, epoch: number, recipients: readonly string[], then: () => void): void {
    const { node } = this;
    const message: AbortRequest = { transaction_id: id, epoch, coordinator: node.addr };
    const remote = recipients.filter((addr) => addr !== node.addr);
    forAllInParallel<string, undefined>(
      recipients.includes(node.addr) ? ['local', 'remote'] : ['remote'],
      (part, done) => {
        if (part === 'local') return node.participant.abort(message, () => done(undefined));
        this.sendDecision('abort', message, remote, (_acked, missed) => {
          this.remember({ kind: 'abort', message, addrs: new Set(missed), remote_recipients: 0, remote_acks: 0, local_pending: false });
          done(undefined);
        });
      },
      () => then(),
    );
  }

  /** Apply a commit here once another replica has, under `epoch` (applyHere: the round's, or the current one on re-delivery). */
  private applyLocallyWhenSafe(pending: PendingDelivery, epoch: number, then: (refused: boolean) => void): void {
    if (!pending.local_pending || !mayApplyLocally(pending)) return then(false);
    this.node.participant.commit({ ...pending.message, epoch }, (answer) => {
      if (!answer.ok) {
        // The real node throws here (the round or the re-delivery pass fails); catch-up
        // later applies it without an epoch. Not a broken invariant by itself.
        this.node.note(`local commit of ${pending.message.transaction_id} refused: ${answer.error}`);
        return then(true);
      }
      pending.local_pending = false;
      then(false);
    });
  }

  private sendDecision(kind: 'commit' | 'abort', message: CommitRequest | AbortRequest, addrs: readonly string[], then: (acked: readonly string[], missed: readonly string[]) => void): void {
    const { node } = this;
    forAllInParallel<string, boolean>(
      addrs,
      (addr, done) => node.call(addr, kind, message, node.limits.decision_timeout_ms, (reply) => done(reply.ok && isAcknowledged(reply.body))),
      (results) => then(addrs.filter((_, i) => results[i]), addrs.filter((_, i) => !results[i])),
    );
  }

  private remember(pending: PendingDelivery): void {
    if (pending.addrs.size === 0 && !pending.local_pending) return;
    if (this.node.state.role !== 'MASTER' && isKnownOnlyHere(pending)) {
      pending.run?.release();
      return this.node.recovery.adoptUnconfirmed(pending.message.transaction_id, (pending.message as CommitRequest).sequence);
    }
    // Re-elected while the first delivery was under way: participants refuse the
    // round's epoch as stale, so it goes out under the current one, as a re-drive does.
    if (pending.kind === 'commit' && pending.message.epoch !== undefined && pending.message.epoch < this.node.epoch) {
      pending = { ...pending, message: { ...pending.message, epoch: this.node.epoch } };
    }
    this.undelivered.set(pending.message.transaction_id, pending);
  }

  /**
   * A new term finishes COMMIT decisions this node made in an earlier one that nobody is
   * known to have applied (coordinator-service.ts, redrive): re-delivered under the current
   * epoch until applied, one held run confirmed before the next run is reserved.
   */
  redrive(decisions: readonly DecisionRecord[]): void {
    const { node } = this;
    const first = decisions[0]?.sequence;
    if (first === undefined) return;
    const remotes = decisions.map((decision) => decision.participants.filter((addr) => addr !== node.addr && node.members.includes(addr)));
    const acks_needed = Math.min(...remotes.map((remote) => Math.min(remote.length, Math.ceil(node.members.length / 2))));
    const run = new RunConfirmation(this.sequencer.hold(first, decisions.length), decisions.length, acks_needed);
    decisions.forEach((decision, index) => {
      assert(decision.sequence !== undefined, `re-driven decision ${decision.id} has a sequence`);
      const remote = remotes[index] ?? [];
      const message: CommitRequest = { transaction_id: decision.id, sequence: decision.sequence, epoch: node.epoch, coordinator: node.addr };
      this.undelivered.set(decision.id, { kind: 'commit', message, addrs: new Set(remote), remote_recipients: remote.length, remote_acks: 0, local_pending: true, run });
      node.note(`decision-redriven ${decision.id} seq=${decision.sequence} epoch=${node.epoch}`);
    });
    if (acks_needed === 0) run.release();
  }

  /** One pass of re-delivery; the node runs it every `decision_retry_interval_ms`. */
  redeliver(then: () => void): void {
    if (this.delivering) return then();
    this.delivering = true;
    // Each decision goes out in the epoch it was made in; this node applies its own share
    // under the current one (coordinator-service.ts, redeliver and applyHere).
    const epoch = this.node.epoch;
    forAllInParallel<[string, PendingDelivery], undefined>(
      [...this.undelivered],
      ([id, pending], done) => {
        this.sendDecision(pending.kind, pending.message, [...pending.addrs], (acked) => {
          for (const addr of acked) pending.addrs.delete(addr);
          countAcks(pending, acked.length);
          this.applyLocallyWhenSafe(pending, epoch, () => {
            if (pending.addrs.size === 0 && !pending.local_pending) this.undelivered.delete(id);
            done(undefined);
          });
        });
      },
      () => {
        this.delivering = false;
        then();
      },
    );
  }
}

function isAcknowledged(answer: DecisionAnswer): boolean {
  return answer.ok;
}

/** Count `count` more remote acknowledgements; the one reaching `acks_needed` tells the run. */
function countAcks(pending: PendingDelivery, count: number): void {
  const before = pending.remote_acks;
  pending.remote_acks += count;
  const needed = pending.run?.acks_needed ?? 0;
  if (needed > 0 && before < needed && pending.remote_acks >= needed) pending.run?.acknowledgeOne();
}


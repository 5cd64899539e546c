/**
 * Where a client's transaction is coordinated (the master only).
 *
 * Group commit: submissions queue up and go out together as one round, up to
 * `rounds_in_flight_max` rounds at once; while rounds are busy the queue grows, so the next
 * round carries more (a lone client still gets a round of its own at once). A round
 * prepares all its transactions on every alive node with one `/prepare-batch` each (one
 * fsync per node) and decides each transaction on its own with the pure rules in
 * lib/two-phase-commit/round-verdict.ts. Its COMMITs then wait for a run of sequences: the
 * rounds waiting when the previous run is confirmed share the next run
 * (lib/two-phase-commit/run-formation.ts) and one decision stage: every decision persisted
 * in one local transaction, then delivered with one `/decide-batch` per node. A participant
 * that misses a decision gets it again until it acknowledges.
 */
import type { AbortRequest, CommitRequest, DecideBatchRequest, PrepareBatchRequest, PrepareResponse, SubmitRequest } from '../protocol/messages.ts';
import type { Payload } from '../protocol/payload.ts';
import type { TransactionState } from '../protocol/states.ts';
import { judgeTransaction, listRecipients, summarizeVotes, type Ballot, type Outcome, type Standing, type Verdict } from '../two-phase-commit/round-verdict.ts';
import { answerKnown, answerWhileInFlight, type ResubmitAnswer } from '../two-phase-commit/resubmit.ts';
import { isAbortFinal, judgeAbortedEarlier, type AbortedEarlierAnswer, type MemberAnswer } from '../two-phase-commit/abort-finality.ts';
import { already_committed_error } from '../two-phase-commit/participant.ts';
import { groupSameDecisions, splitDecisions } from '../two-phase-commit/decision-batches.ts';
import { batch_max_transactions } from '../protocol/messages.ts';
import { completesQuorum, countAcksNeeded, mayAnswerCommitted, mayApplyLocally } from '../two-phase-commit/acknowledgement-quorum.ts';
import { chooseLocalApplySync } from '../two-phase-commit/local-apply-sync.ts';
import { RunConfirmation, Sequencer, type Reservation } from './sequencer.ts';
import { formRun } from '../two-phase-commit/run-formation.ts';
import type { Timer } from '../time/timers.ts';
import { hasMajority } from '../cluster/election.ts';
import { PeerUnreachable } from './peer-calls.ts';
import { listAlive, reachesMajority, type NodeContext } from './context.ts';
import type { DecideBatchAnswer, DecisionAnswer, ParticipantService } from './participant-service.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import { FailpointAbort } from './failpoints.ts';
import { assert } from '../util/assert.ts';
import { decideAfterFirstDelivery, highestUnappliedSequence, isDelivered, isKnownOnlyHere, isUnappliedElsewhere, type PendingDelivery } from '../two-phase-commit/pending-delivery.ts';
import { noteStoreFault } from './store-faults.ts';

export type SubmitAnswer =
  | { readonly http_status: 200; readonly body: { transaction_id: string; status: 'COMMITTED'; sequence: number; participants: readonly string[] } }
  | { readonly http_status: 409; readonly body: { transaction_id: string; status: 'ABORTED'; reason: string; votes: Readonly<Record<string, string>> } }
  | { readonly http_status: 421; readonly body: { error: string; master: string | null } }
  | { readonly http_status: 422; readonly body: { error: string; transaction_id: string } }
  | { readonly http_status: 503; readonly body: { error: string; master: string | null; in_doubt?: true } };

/** A client's transaction waiting for a round. */
interface Submission {
  readonly id: string;
  readonly payload: Payload;
  readonly size_bytes: number;
  readonly answer: (answer: SubmitAnswer) => void;
}

/** One transaction of a round, once its votes are in and judged (lib/two-phase-commit/round-verdict.ts). */
interface Judged<V extends Verdict = Verdict> {
  readonly submission: Submission;
  readonly ballots: readonly Ballot[];
  readonly verdict: V;
}

/** A transaction this round decides, with its sequence once it has one. */
interface Decided {
  readonly submission: Submission;
  readonly ballots: readonly Ballot[];
  readonly outcome: Outcome;
  readonly sequence?: number;
}

type Settled = Judged<Extract<Verdict, { kind: 'committed-earlier' }>>;

/** What one round hands to the decision stage once its votes are in and judged. */
interface RoundDecisions {
  /** The round's number (rounds start in this order). */
  readonly round: number;
  readonly epoch: number;
  readonly participants: readonly string[];
  /** Fresh decisions, in the round's order; COMMITs carry their sequence once the round has a run. */
  readonly decided: readonly Decided[];
  readonly settled: readonly Settled[];
  readonly withdrawn: readonly Judged[];
}

/** A round waiting at the sequence gate (lib/two-phase-commit/run-formation.ts). */
interface GateEntry {
  readonly round: number;
  readonly epoch: number;
  readonly commits: number;
  readonly participants: readonly string[];
  readonly decisions: RoundDecisions;
  /** Its wait is bounded: past `prepare_timeout_ms` it leaves the gate and its COMMITs abort. */
  readonly timer: Timer;
  /** Settles the round once the stage that carried its decisions is over. */
  readonly done: { readonly resolve: () => void; readonly reject: (error: unknown) => void };
}

export class CoordinatorService {
  /** Transactions submitted and not answered yet, by id: a node's view reports them as INIT. */
  private readonly in_flight = new Map<string, { readonly payload: Payload; readonly answer: Promise<SubmitAnswer> }>();
  /** Decisions some participant has not acknowledged yet. */
  private readonly undelivered = new Map<string, PendingDelivery>();
  private delivering = false;
  private readonly sequencer: Sequencer;
  /** Submissions waiting for a round. */
  private queue: Submission[] = [];
  /** Payload bytes of the submissions in `queue`. */
  private queued_bytes = 0;
  private rounds_running = 0;
  /** A start of rounds is scheduled for the event loop's next turn (`scheduleRounds`). */
  private rounds_scheduled = false;
  /** COMMIT decisions on disk whose first delivery is still under way, with their sequences. */
  private readonly first_delivery = new Map<string, number>();
  /** Rounds started so far: the next round's number. */
  private rounds_started = 0;
  /** Rounds whose votes are in and whose COMMITs wait for the sequence gate to open. */
  private gate_waiting: GateEntry[] = [];
  /** A wait for the gate is under way: rounds arriving now join the run it reserves. */
  private gate_wait_pending = false;

  constructor(
    private readonly context: NodeContext,
    private readonly participant: ParticipantService,
    /** Hands a COMMIT decision no other replica applied to reconciliation (RecoveryService), with the newest epoch it was sent under. */
    private readonly handOff: (id: string, sequence: number | undefined, sent_epoch: number) => void,
    /** Asks the other members about an aborted id, and makes some remember its abort (RecoveryService). */
    private readonly cluster: AbortQuestions,
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
        pending.run?.release();
        this.handOff(id, (pending.message as CommitRequest).sequence, pending.message.epoch ?? this.context.state.epoch);
      }
    }
  }

  /** A COMMIT this node decided that no other replica is known to have applied yet. */
  isUnappliedElsewhere(id: string): boolean {
    const pending = this.undelivered.get(id);
    return this.first_delivery.has(id) || (pending !== undefined && isUnappliedElsewhere(pending));
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

  /** The highest sequence of a COMMIT this node decided and has not applied itself yet. */
  maxUndeliveredSequence(): number {
    return highestUnappliedSequence(this.first_delivery, this.undelivered);
  }

  /** Decided transactions some participant has not acknowledged yet. */
  listUndelivered(): readonly string[] {
    return [...this.undelivered.keys()];
  }

  async submit(request: SubmitRequest): Promise<SubmitAnswer> {
    const refusal = this.refuseWrites();
    if (refusal !== undefined) return refusal;
    const id = request.transaction_id ?? this.context.ids.newTransactionId();
    const running = this.in_flight.get(id);
    if (running) {
      const resubmit = answerWhileInFlight(running.payload, request.payload);
      return resubmit.kind === 'join' ? running.answer : this.answerResubmit(id, resubmit);
    }
    // Registered before the first await: a second submit of the same id meets this one.
    const answer = this.answerOrQueue(id, request).finally(() => this.in_flight.delete(id));
    this.in_flight.set(id, { payload: request.payload, answer });
    return answer;
  }

  /** Why this node takes no write now (not master, taking over, no majority), or undefined when it does. */
  private refuseWrites(): SubmitAnswer | undefined {
    const { state } = this.context;
    const master = state.master ?? null;
    if (state.role !== 'MASTER') {
      if (master !== null) return { http_status: 421, body: { error: 'not master', master } };
      const error = reachesMajority(this.context)
        ? 'no master elected yet; retry shortly'
        : 'this node does not reach a majority of the membership: writes are refused until it does (reads are served marked stale)';
      return { http_status: 503, body: { error, master } };
    }
    if (!state.accepting_writes) return { http_status: 503, body: { error: 'master is taking over; retry shortly', master } };
    if (!hasMajority(listAlive(this.context).length, state.members.length)) {
      return { http_status: 503, body: { error: 'no majority of the membership reachable', master } };
    }
    return undefined;
  }

  private async answerOrQueue(id: string, request: SubmitRequest): Promise<SubmitAnswer> {
    // Only an id the client chose can have a past; a fresh UUID cannot.
    const known = request.transaction_id === undefined ? undefined : await this.answerKnown(id, request.payload);
    if (known) return known;
    const size_bytes = estimateSize(request.payload);
    const { limits } = this.context;
    if (this.queue.length >= limits.submissions_queued_max || this.queued_bytes + size_bytes > limits.submissions_queued_max_bytes) return this.answerBusy();
    return this.context.metrics.timeRound(
      () =>
        new Promise<SubmitAnswer>((answer) => {
          this.queue.push({ id, payload: request.payload, size_bytes, answer });
          this.queued_bytes += size_bytes;
          this.scheduleRounds();
        }),
    );
  }

  /** The queue is full: nothing of this submission was prepared, the client may send it again. */
  private answerBusy(): SubmitAnswer {
    const error = `master busy: ${this.queue.length} submissions (${this.queued_bytes} bytes) already wait for a round; retry shortly`;
    return { http_status: 503, body: { error, master: this.context.state.master ?? null } };
  }

  /** The answer for an id this node already knows (lib/two-phase-commit/resubmit.ts), or undefined for a new round. */
  private async answerKnown(id: string, payload: Payload): Promise<SubmitAnswer | undefined> {
    const [decision, record] = await Promise.all([this.context.decision_log.find(id), this.context.participant_log.find(id)]);
    const resubmit = answerKnown({ ...(decision && { decision }), ...(record && { record }) }, payload);
    if (resubmit.kind === 'new-round') return undefined;
    if (resubmit.kind !== 'ask-cluster') return this.answerResubmit(id, resubmit);
    const answer = await this.askAbortedEarlier(id, record?.state);
    this.context.log.info('resubmit-asked-cluster', { transaction_id: id, answer: answer.kind });
    return this.answerResubmit(id, answer.kind === 'fence' ? { kind: 'in-doubt' } : answer);
  }

  /**
   * An id aborted here, resubmitted: what became of it in the cluster (a later master may
   * have committed a retry of it). Members that never saw it are made to remember the abort
   * when that makes it final (lib/two-phase-commit/abort-finality.ts).
   */
  private async askAbortedEarlier(id: string, own_state: TransactionState | undefined): Promise<AbortedEarlierAnswer> {
    const { context } = this;
    const own: MemberAnswer = { addr: context.addr, view: { state: own_state ?? 'UNKNOWN' } };
    const answers = [own, ...(await this.cluster.askMembers(id))];
    const first = judgeAbortedEarlier(answers, context.state.members.length);
    if (first.kind !== 'fence') return first;
    const fenced = new Set(await this.cluster.rememberAbortAt(id, first.addrs));
    return judgeAbortedEarlier(
      answers.map((answer) => (fenced.has(answer.addr) ? { addr: answer.addr, view: { state: 'ABORTED' } } : answer)),
      context.state.members.length,
    );
  }

  private answerResubmit(id: string, resubmit: Exclude<ResubmitAnswer, { kind: 'new-round' | 'join' | 'ask-cluster' }>): SubmitAnswer {
    switch (resubmit.kind) {
      case 'refuse-reused-id':
        return refuseReusedId(id);
      case 'committed':
        return { http_status: 200, body: { transaction_id: id, status: 'COMMITTED', sequence: resubmit.sequence, participants: resubmit.participants } };
      case 'aborted':
        return { http_status: 409, body: { transaction_id: id, status: 'ABORTED', reason: 'aborted earlier', votes: {} } };
      case 'in-doubt':
        // An earlier attempt of this very id is in doubt here (its coordinator died, or its
        // commit is not applied anywhere yet).
        return { http_status: 503, body: { error: 'transaction is in doubt; retry shortly', master: this.context.state.master ?? null, in_doubt: true } };
    }
  }

  /**
   * Start rounds once the event loop has taken in the requests already waiting (`after(0)`:
   * production's setImmediate), so they share one round. Started at once, every submission
   * found no round running in a cluster of one, whose rounds never wait for the network:
   * each ran alone, three fsyncs a transaction, and no request was read meanwhile.
   */
  private scheduleRounds(): void {
    if (this.rounds_scheduled) return;
    this.rounds_scheduled = true;
    this.context.timers.after(0, () => {
      this.rounds_scheduled = false;
      this.startRounds();
    });
  }

  /**
   * Start rounds for queued submissions while fewer than `rounds_in_flight_max` run. A round
   * runs in the epoch this node leads when it starts: if it no longer takes writes (it adopted
   * a newer epoch, stepped down, lost its majority), the queued submissions get what a submit
   * gets now; none of them was prepared anywhere, so the client may send it again.
   */
  private startRounds(): void {
    const { limits } = this.context;
    const refusal = this.queue.length > 0 ? this.refuseWrites() : undefined;
    if (refusal !== undefined) {
      const refused = this.queue;
      this.queue = [];
      this.queued_bytes = 0;
      for (const submission of refused) submission.answer(refusal);
      return;
    }
    while (this.queue.length > 0 && this.rounds_running < limits.rounds_in_flight_max) {
      const round = this.takeRound();
      this.rounds_running += 1;
      this.rounds_started += 1;
      void this.runRound(round, this.rounds_started)
        .catch((error: unknown) => {
          this.context.log.warn('round-failed', { transactions: round.length, error: String(error) });
          for (const submission of round) submission.answer({ http_status: 503, body: { error: 'the round failed; retry to learn the outcome', master: this.context.addr, in_doubt: true } });
        })
        .finally(() => {
          this.rounds_running -= 1;
          this.startRounds();
        });
    }
  }

  /** The next round: queued submissions up to the batch limits, oldest first. */
  private takeRound(): readonly Submission[] {
    const { limits } = this.context;
    let bytes = 0;
    let count = 0;
    for (const submission of this.queue) {
      if (count >= limits.batch_max_transactions || (count > 0 && bytes + submission.size_bytes > limits.batch_max_payload_bytes)) break;
      bytes += submission.size_bytes;
      count += 1;
    }
    const round = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    for (const submission of round) this.queued_bytes -= submission.size_bytes;
    return round;
  }

  private async runRound(round: readonly Submission[], round_number: number): Promise<void> {
    const { context } = this;
    const epoch = context.state.epoch;
    const started_s = context.metrics.now_s();
    const participants = listAlive(context);
    const prepare: PrepareBatchRequest = {
      epoch,
      coordinator: context.addr,
      participants: [...participants],
      transactions: round.map(({ id, payload }) => ({ transaction_id: id, payload })),
    };
    const refused = await this.failedAt('before-prepare-send');
    const votes = refused ? new Map<string, readonly PrepareResponse[]>() : await this.collectVotes(participants, prepare);
    context.metrics.prepare_seconds.observe(context.metrics.now_s() - started_s);
    const failed_after_votes = await this.failedAt('after-prepare-votes');
    // A master that stepped down or saw a newer epoch while collecting votes must not
    // decide COMMIT: the new master may already be handing out sequences.
    const still_master = context.state.role === 'MASTER' && context.state.epoch === epoch;
    const standing: Standing = refused || failed_after_votes ? { kind: 'must-abort', reason: 'failpoint' } : still_master ? { kind: 'leading' } : { kind: 'must-abort', reason: 'lost mastership' };
    const judged = round.map((submission, index): Judged => {
      const ballots = participants.flatMap((addr) => {
        const response = votes.get(addr)?.[index];
        return response ? [{ addr, response }] : [];
      });
      return { submission, ballots, verdict: judgeTransaction(participants, ballots, standing) };
    });
    // An id another round holds in doubt gets no decision here: its holders settle it by
    // termination (the ones that just prepared it too), and its client hears 503 in_doubt.
    // An id held with other writes gets none either: its client is refused, and the
    // participants that prepared this round's writes for it are told to drop them.
    for (const { submission, verdict } of judged) {
      if (verdict.kind === 'in-doubt-elsewhere') {
        context.log.info('in-doubt-elsewhere', { transaction_id: submission.id, epoch });
        submission.answer({ http_status: 503, body: { error: 'an earlier attempt of this transaction is in doubt; retry shortly', master: context.addr, in_doubt: true } });
      } else if (verdict.kind === 'reused-id') {
        context.log.info('reused-id-refused', { transaction_id: submission.id, epoch });
        submission.answer(refuseReusedId(submission.id));
      }
    }
    const fresh = judged.flatMap(({ submission, ballots, verdict }): Decided[] => (verdict.kind === 'decide' ? [{ submission, ballots, outcome: verdict.outcome }] : []));
    const decisions: RoundDecisions = {
      round: round_number,
      epoch,
      participants,
      decided: fresh,
      settled: judged.filter((entry): entry is Settled => entry.verdict.kind === 'committed-earlier'),
      withdrawn: judged.filter(({ verdict }) => verdict.kind === 'reused-id'),
    };
    const commits = fresh.filter((entry) => entry.outcome.decision === 'COMMIT').length;
    await (commits === 0 ? this.decide([decisions], undefined) : this.waitForRun(decisions, commits));
  }

  /**
   * Wait at the sequence gate with every other round whose votes are in; when it opens, all
   * of them share one run and one decision stage (`openGate`). A round that waits longer
   * than a prepare may leaves the gate: its COMMITs abort, nothing was reserved for them.
   * Settles once the stage that carried the round's decisions is over.
   */
  private waitForRun(decisions: RoundDecisions, commits: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.context.timers.after(this.context.limits.prepare_timeout_ms, () => {
        this.gate_waiting = this.gate_waiting.filter((entry) => entry.round !== decisions.round);
        this.decide([withoutSequences(decisions)], undefined).then(resolve, reject);
      });
      this.gate_waiting.push({ round: decisions.round, epoch: decisions.epoch, commits, participants: decisions.participants, decisions, timer, done: { resolve, reject } });
      if (!this.gate_wait_pending) void this.openGate();
    });
  }

  /**
   * Wait for the previous run to be confirmed (lib/node/sequencer.ts); then every round
   * waiting shares the next run, in the order `formRun` gives
   * (lib/two-phase-commit/run-formation.ts): one reservation, one decisions write, one
   * `/decide-batch` per peer, one confirmation. Rounds of an epoch this node no longer leads
   * get no sequence and decide on their own. Rounds prepared on other participants than the
   * run's first, and rounds that arrive meanwhile, wait for the next run (their waits still
   * bounded).
   */
  private async openGate(): Promise<void> {
    this.gate_wait_pending = true;
    let joining: { readonly entry: GateEntry; readonly offset: number }[] = [];
    let refused: GateEntry[] = [];
    const reservation = await this.sequencer.reserveWhenOpen(() => {
      const { state } = this.context;
      const waiting = this.gate_waiting;
      const plan = formRun(waiting, state.role === 'MASTER' ? state.epoch : undefined);
      const byRound = new Map(waiting.map((entry) => [entry.round, entry]));
      const deferred = new Set(plan.deferred);
      this.gate_waiting = waiting.filter((entry) => deferred.has(entry.round));
      for (const entry of waiting) if (!deferred.has(entry.round)) entry.timer.cancel();
      joining = plan.parts.map((part) => ({ entry: byRound.get(part.round)!, offset: part.offset }));
      refused = plan.refused.map((round) => byRound.get(round)!);
      return plan.count;
    });
    this.gate_wait_pending = false;
    if (this.gate_waiting.length > 0) void this.openGate();
    for (const { decisions, done } of refused) this.decide([withoutSequences(decisions)], undefined).then(done.resolve, done.reject);
    if (joining.length === 0) return;
    assert(reservation !== undefined, 'rounds joining a run have a reservation');
    const parts = joining.map(({ entry, offset }) => numberCommits(entry.decisions, reservation.first + offset));
    this.context.log.info('run-reserved', { first: reservation.first, count: reservation.count, rounds: parts.map(({ round }) => round) });
    this.decide(parts, reservation).then(
      () => joining.forEach(({ entry }) => entry.done.resolve()),
      (error: unknown) => joining.forEach(({ entry }) => entry.done.reject(error)),
    );
  }

  /**
   * The decision stage of one or more rounds of one epoch (several: the rounds sharing the
   * run `reservation`): every decision is written in one local transaction (one fsync)
   * before any leaves, then delivered with one `/decide-batch` per participant, then the
   * clients are answered.
   */
  private async decide(parts: readonly RoundDecisions[], reservation: Reservation | undefined): Promise<void> {
    const { context } = this;
    const epoch = parts[0]!.epoch;
    assert(
      parts.every((part) => part.epoch === epoch),
      'rounds deciding together share one epoch',
    );
    const created_at = context.clock.now_ms();
    const records = parts.flatMap(({ decided, participants }) =>
      decided.map(
        (verdict): DecisionRecord => ({
          id: verdict.submission.id,
          decision: verdict.outcome.decision,
          epoch,
          participants,
          created_at,
          ...(verdict.sequence !== undefined && { sequence: verdict.sequence }),
        }),
      ),
    );
    try {
      context.decision_log.recordMany(records);
    } catch (error) {
      reservation?.cancel();
      noteStoreFault(context, error);
      throw error;
    }
    // Decided and not yet delivered: reported in `max_decided` from this moment on.
    const committed = records.flatMap((record) => (record.sequence === undefined ? [] : [{ id: record.id, sequence: record.sequence }]));
    for (const record of committed) this.first_delivery.set(record.id, record.sequence);
    for (const record of records) context.log.info('decided', { transaction_id: record.id, decision: record.decision, sequence: record.sequence, epoch });
    // Decisions are on disk: from here the rounds must reach `deliver`, so `abort` is ignored.
    await context.failpoints.hit('after-decision-persist').catch(() => undefined);
    await context.failpoints.hit('before-decision-send').catch(() => undefined);
    const run = reservation ? new RunConfirmation(reservation, reservation.count) : undefined;
    // Planted bug `confirm-run-on-own-decision`: the decision on this node's disk confirms the run.
    if (context.bugs['confirm-run-on-own-decision']) run?.release();
    const decision_started_s = context.metrics.now_s();
    try {
      await this.deliver(epoch, parts, run);
    } catch (error) {
      // Not remembered for re-delivery: reconciliation finishes them, as after a restart.
      for (const record of committed) if (!this.undelivered.has(record.id)) this.handOff(record.id, record.sequence, epoch);
      run?.release();
      throw error;
    } finally {
      for (const record of committed) this.first_delivery.delete(record.id);
    }
    // One sample per round with a COMMIT (rounds sharing the stage each waited its time); a
    // round of aborts only has no phase two of a COMMIT to time.
    const elapsed_s = context.metrics.now_s() - decision_started_s;
    for (const part of parts) if (part.settled.length > 0 || part.decided.some(({ outcome }) => outcome.decision === 'COMMIT')) context.metrics.commit_seconds.observe(elapsed_s);
  }

  /** Every participant's votes on the round, in the round's order; a silent one votes nothing. */
  private async collectVotes(participants: readonly string[], prepare: PrepareBatchRequest): Promise<Map<string, readonly PrepareResponse[]>> {
    const answers = await Promise.all(participants.map(async (addr) => [addr, await this.requestVotes(addr, prepare)] as const));
    return new Map(answers);
  }

  private async requestVotes(addr: string, prepare: PrepareBatchRequest): Promise<readonly PrepareResponse[]> {
    const count = prepare.transactions.length;
    const all = (response: PrepareResponse) => prepare.transactions.map(() => response);
    if (addr === this.context.addr) {
      try {
        return await this.participant.prepareBatch(prepare, 'own-round');
      } catch (error) {
        this.context.log.warn('local-prepare-failed', { transactions: count, error: String(error) });
        return all({ status: 'ABORT', reason: 'storage error' });
      }
    }
    try {
      const answer = await this.context.client.call<{ votes?: PrepareResponse[] }>(addr, 'POST', '/prepare-batch', prepare, this.context.limits.prepare_timeout_ms);
      const votes = answer.body?.votes;
      if (answer.status === 200 && Array.isArray(votes) && votes.length === count) return votes.map(normalizeVote);
      return all({ status: 'ABORT', reason: `unexpected answer ${answer.status}` });
    } catch (error) {
      const reason = error instanceof PeerUnreachable && /timeout|abort/i.test(error.cause_message) ? 'prepare timeout' : 'unreachable';
      return all({ status: 'ABORT', reason });
    }
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
   * Deliver a round's decisions: one `/decide-batch` to every other participant, then this
   * node's own share, where a commit is applied only once another participant has applied
   * it (never known to this node alone; see `mayApplyLocally`). Until then its client hears
   * 503 `in_doubt` and re-delivery finishes the job.
   *
   * `settled` are ids a participant had already committed in an earlier round (a client's
   * retry): the READY voters commit them at that sequence; nothing new was decided.
   * `withdrawn` are ids a participant holds with other writes (their clients were refused):
   * the READY voters, which prepared this round's writes for them, abort those.
   */
  private async deliver(epoch: number, parts: readonly RoundDecisions[], run: RunConfirmation | undefined): Promise<void> {
    const { context } = this;
    const here = context.addr;
    const pendings = new Map<string, PendingDelivery>();
    const messages = new Map<string, { commits: { transaction_id: string; sequence: number }[]; aborts: string[] }>();
    const address = (addr: string) => {
      let message = messages.get(addr);
      if (!message) messages.set(addr, (message = { commits: [], aborts: [] }));
      return message;
    };
    const abort_recipients = new Map<string, number>();
    const abortAt = (id: string, recipients: readonly string[]) => {
      const remote = recipients.filter((addr) => addr !== here);
      abort_recipients.set(id, remote.length);
      const message: AbortRequest = { transaction_id: id, epoch, coordinator: here };
      pendings.set(id, { kind: 'abort', message, addrs: new Set(remote), remote_recipients: 0, remote_acks: 0, local_pending: recipients.includes(here) });
      for (const addr of remote) address(addr).aborts.push(id);
    };
    // The commits of a round (its participants) need this many other replicas each.
    const members = context.state.members.length;
    for (const { participants, decided, settled, withdrawn } of parts) {
      const share = run?.share(countAcksNeeded(participants.filter((addr) => addr !== here).length, members));
      for (const { submission, ballots, outcome, sequence } of decided) {
        const id = submission.id;
        const recipients = listRecipients({ kind: 'decide', outcome }, participants, ballots);
        if (outcome.decision !== 'COMMIT') {
          abortAt(id, recipients);
          continue;
        }
        assert(sequence !== undefined, `commit of ${id} has a sequence`);
        const remote = recipients.filter((addr) => addr !== here);
        const message: CommitRequest = { transaction_id: id, sequence, epoch, coordinator: here };
        pendings.set(id, { kind: 'commit', message, addrs: new Set(remote), remote_recipients: remote.length, remote_acks: 0, local_pending: recipients.includes(here), ...(share && { run: share }) });
        for (const addr of remote) address(addr).commits.push({ transaction_id: id, sequence });
      }
      for (const { submission, ballots, verdict } of settled) {
        const id = submission.id;
        const ready = listRecipients(verdict, participants, ballots);
        const remote = ready.filter((addr) => addr !== here);
        const message: CommitRequest = { transaction_id: id, sequence: verdict.sequence, epoch, coordinator: here };
        // Applied elsewhere already, so this node may apply it at once.
        pendings.set(id, { kind: 'commit', message, addrs: new Set(remote), remote_recipients: remote.length, remote_acks: 1, local_pending: ready.includes(here) });
        for (const addr of remote) address(addr).commits.push({ transaction_id: id, sequence: verdict.sequence });
        context.log.info('committed-earlier', { transaction_id: id, sequence: verdict.sequence, epoch });
      }
      for (const { submission, ballots, verdict } of withdrawn) abortAt(submission.id, listRecipients(verdict, participants, ballots));
    }
    // Aborts a participant refused because it committed the id (a later round of a retry did):
    // never the client's answer (a retry asks the cluster and learns the commit).
    const superseded = new Set<string>();
    if (context.bugs['apply-here-unsynced-before-replicated']) await this.applyHere(epoch, [...pendings.values()].filter((pending) => pending.kind === 'commit'), true);
    const early = this.answerCommitsWhenApplied(epoch, parts, pendings);
    // Participants owed the same decisions get the same message objects, stringified once (PeerClient).
    await Promise.all(
      groupSameDecisions(messages).flatMap(({ addrs, owed }) => {
        const batches = splitDecisions(owed, batch_max_transactions).map((batch): DecideBatchRequest => ({ epoch, coordinator: here, ...batch }));
        return addrs.flatMap((addr) =>
          batches.map(async (batch) => {
            await this.sendDecisions(addr, batch, pendings, superseded);
            early.onAcknowledged();
          }),
        );
      }),
    );
    try {
      await early.settled();
      await this.applyHere(epoch, [...pendings.values()]);
    } finally {
      // A commit no other replica was to hear (a cluster of one): applied here (or failed to
      // be), nobody else to tell, so it counts for the run at once.
      for (const pending of pendings.values()) if (pending.run?.acks_needed === 0) pending.run.acknowledgeOne();
    }
    const remembering = new Map([...pendings].map(([id, pending]) => [id, superseded.has(id) ? 0 : countRemembering(pending, abort_recipients.get(id) ?? 0)]));
    for (const pending of pendings.values()) this.remember(pending);
    for (const { participants, decided, settled } of parts) {
      for (const { submission, ballots, outcome, sequence } of decided) {
        if (early.answered.has(submission.id)) continue;
        submission.answer(
          outcome.decision === 'ABORT'
            ? this.answerAborted(submission.id, outcome.reason, ballots, remembering.get(submission.id) ?? 0)
            : this.answerCommitted(submission.id, sequence, pendings.get(submission.id), participants),
        );
      }
      for (const { submission, verdict } of settled) submission.answer(this.answerCommitted(submission.id, verdict.sequence, pendings.get(submission.id), participants));
    }
  }

  /**
   * A stage's fresh COMMITs answered as soon as their 200 is true rather than when the slowest
   * participant has answered: once another replica acknowledged one it is applied here
   * (`mayApplyLocally`; reads on the master then see it), and once as many as its run's
   * confirmation needs did (`mayAnswerCommitted`: with this node's decision on disk, a majority
   * of the membership; one other at three members, two at five) its client is answered while
   * the stage's other messages are still under way. `onAcknowledged` after each
   * `/decide-batch` answer; after `settled`, the stage's end (`deliver`) applies and answers
   * everything else exactly as before. A failed early apply answers nothing: the stage's end
   * applies again and reports it.
   */
  private answerCommitsWhenApplied(epoch: number, parts: readonly RoundDecisions[], pendings: ReadonlyMap<string, PendingDelivery>) {
    const answered = new Set<string>();
    const members = this.context.state.members.length;
    const commits = parts.flatMap(({ participants, decided }) => {
      const acks_needed = countAcksNeeded(participants.filter((addr) => addr !== this.context.addr).length, members);
      return decided.flatMap(({ submission, outcome, sequence }) => {
        const pending = pendings.get(submission.id);
        return outcome.decision === 'COMMIT' && pending?.kind === 'commit' && pending.remote_recipients > 0 ? [{ submission, sequence, pending, participants, acks_needed }] : [];
      });
    });
    const applyAcknowledged = async () => {
      const ready = commits.filter(({ pending }) => pending.local_pending && pending.remote_acks > 0 && mayApplyLocally(pending));
      if (ready.length > 0) {
        await this.applyHere(
          epoch,
          ready.map(({ pending }) => pending),
        );
      }
      for (const { submission, sequence, pending, participants, acks_needed } of commits) {
        if (pending.local_pending || answered.has(submission.id) || !mayAnswerCommitted(pending.remote_acks, acks_needed)) continue;
        answered.add(submission.id);
        submission.answer(this.answerCommitted(submission.id, sequence, pending, participants));
      }
    };
    let applying: Promise<void> = Promise.resolve();
    return {
      answered: answered as ReadonlySet<string>,
      onAcknowledged: () => {
        if (commits.length > 0) applying = applying.then(applyAcknowledged).catch(() => undefined);
      },
      settled: () => applying,
    };
  }

  /**
   * A fresh ABORT decision is the client's answer only once a majority remembers it; until
   * then a later master could commit a retry of the id (issue 14 item 13): in doubt.
   */
  private answerAborted(id: string, reason: string, ballots: readonly Ballot[], remembering: number): SubmitAnswer {
    if (!isAbortFinal(remembering, this.context.state.members.length)) {
      return { http_status: 503, body: { error: `aborted (${reason}) but not yet known to a majority of the membership; retry to learn the outcome`, master: this.context.addr, in_doubt: true } };
    }
    return { http_status: 409, body: { transaction_id: id, status: 'ABORTED', reason, votes: summarizeVotes(ballots) } };
  }

  private answerCommitted(id: string, sequence: number | undefined, pending: PendingDelivery | undefined, participants: readonly string[]): SubmitAnswer {
    assert(sequence !== undefined, `commit of ${id} has a sequence`);
    if (pending?.local_pending && !this.context.bugs['acknowledge-before-replicated']) {
      return { http_status: 503, body: { error: 'commit decided but no other replica has acknowledged it yet; retry to learn the outcome', master: this.context.addr, in_doubt: true } };
    }
    return { http_status: 200, body: { transaction_id: id, status: 'COMMITTED', sequence, participants } };
  }

  /**
   * Send one participant its decisions. It applies each on its own; a refusal (4xx: it took a
   * newer epoch) leaves that one for re-delivery, which the participant acknowledges once it
   * has resolved the transaction by asking the cluster.
   */
  private async sendDecisions(addr: string, message: DecideBatchRequest, pendings: ReadonlyMap<string, PendingDelivery>, superseded?: Set<string>): Promise<void> {
    let answer: DecideBatchAnswer | undefined;
    try {
      const reply = await this.context.client.call<DecideBatchAnswer>(addr, 'POST', '/decide-batch', message, this.context.limits.decision_timeout_ms);
      if (reply.status === 200 && Array.isArray(reply.body?.commits) && Array.isArray(reply.body.aborts)) answer = reply.body;
      else {
        // Refused whole (a 4xx names why): never silently; it stays owed and is sent again.
        const error = (reply.body as { error?: unknown } | undefined)?.error;
        this.context.log.warn('decisions-refused', { peer: addr, status: reply.status, error: typeof error === 'string' ? error : 'malformed answer', commits: message.commits.length, aborts: message.aborts.length });
      }
    } catch {
      answer = undefined;
    }
    if (!answer) return;
    const note = (id: string, result: DecisionAnswer | undefined) => {
      const pending = pendings.get(id);
      if (!pending || !result) return;
      if (!result.ok && pending.kind === 'abort' && result.error === already_committed_error) {
        // A later round committed the client's retry of this id there: the cluster's log
        // superseded this abort, which nobody must be sent again (issue 14 item 13).
        this.context.log.warn('abort-superseded', { transaction_id: id, peer: addr });
        pending.addrs.delete(addr);
        superseded?.add(id);
        return;
      }
      if (!result.ok) {
        this.context.log.info('decision-refused', { transaction_id: id, peer: addr, error: result.error });
        return;
      }
      this.acknowledge(pending, addr);
    };
    message.commits.forEach(({ transaction_id }, index) => note(transaction_id, answer.commits[index]));
    message.aborts.forEach((transaction_id, index) => note(transaction_id, answer.aborts[index]));
    if (answer.commits.some((result) => result.ok)) await this.context.failpoints.hit('after-first-commit').catch(() => undefined);
  }

  /** `addr` applied `pending`'s decision. */
  private acknowledge(pending: PendingDelivery, addr: string): void {
    if (!pending.addrs.delete(addr)) return;
    if (pending.kind !== 'commit') return;
    pending.remote_acks += 1;
    if (pending.run && completesQuorum(pending.remote_acks, pending.run.acks_needed)) pending.run.acknowledgeOne();
  }

  /**
   * Apply this node's share of decisions: aborts at once, commits once another replica has;
   * without waiting for an fsync when every commit is durable elsewhere and no abort rides
   * along (lib/two-phase-commit/local-apply-sync.ts).
   */
  private async applyHere(epoch: number, pendings: readonly PendingDelivery[], planted_bug = false): Promise<void> {
    const commits = pendings.filter((pending) => pending.kind === 'commit' && pending.local_pending && (planted_bug || mayApplyLocally(pending)));
    const aborts = pendings.filter((pending) => pending.kind === 'abort' && pending.local_pending);
    if (commits.length === 0 && aborts.length === 0) return;
    const answer = await this.participant.decideBatch(
      {
        epoch,
        coordinator: this.context.addr,
        commits: commits.map(({ message }) => ({ transaction_id: message.transaction_id, sequence: (message as CommitRequest).sequence })),
        aborts: aborts.map(({ message }) => message.transaction_id),
      },
      planted_bug ? 'unsynced' : chooseLocalApplySync(commits, aborts.length),
    );
    commits.forEach((pending, index) => {
      const result = answer.commits[index];
      if (!result?.ok) throw new Error(`local commit of ${pending.message.transaction_id} refused: ${result?.error ?? 'no answer'}`);
      pending.local_pending = false;
    });
    aborts.forEach((pending) => (pending.local_pending = false));
  }

  /** After a decision's first delivery (lib/two-phase-commit/pending-delivery.ts, `decideAfterFirstDelivery`). */
  private remember(delivered: PendingDelivery): void {
    const { state } = this.context;
    const next = decideAfterFirstDelivery(delivered, state.role === 'MASTER' && state.term === state.epoch ? state.term : undefined);
    if (next.kind === 'delivered') return;
    if (next.kind === 'hand-off') {
      delivered.run?.release();
      this.handOff(delivered.message.transaction_id, next.sequence, next.sent_epoch);
      return;
    }
    const { pending } = next;
    this.undelivered.set(pending.message.transaction_id, pending);
    this.context.log.warn('decision-undelivered', { transaction_id: pending.message.transaction_id, kind: pending.kind, addrs: [...pending.addrs], local_pending: pending.local_pending });
  }

  /**
   * A new term finishes COMMIT decisions this node made in an earlier one that nobody is
   * known to have applied: re-delivered under `epoch`, the term that adopted them
   * (lib/cluster/take-over.ts, `decideAdopted`; participants refuse older ones and ones from
   * a node that does not lead the epoch) until applied, confirmed like any run before the
   * next run is reserved.
   */
  redrive(decisions: readonly DecisionRecord[], epoch: number): void {
    const { context } = this;
    const first = decisions[0]?.sequence;
    if (first === undefined) return;
    const remotes = decisions.map((decision) => decision.participants.filter((addr) => addr !== context.addr && context.state.members.includes(addr)));
    // One run (the earlier term's last round): as many acknowledgements as its smallest share allows.
    const acks_needed = Math.min(...remotes.map((remote) => countAcksNeeded(remote.length, context.state.members.length)));
    const run = new RunConfirmation(this.sequencer.hold(first, decisions.length), decisions.length).share(acks_needed);
    decisions.forEach((decision, index) => {
      assert(decision.sequence !== undefined, `re-driven decision ${decision.id} has a sequence`);
      const remote = remotes[index] ?? [];
      const message: CommitRequest = { transaction_id: decision.id, sequence: decision.sequence, epoch, coordinator: context.addr };
      this.undelivered.set(decision.id, { kind: 'commit', message, addrs: new Set(remote), remote_recipients: remote.length, remote_acks: 0, local_pending: true, run });
      context.log.warn('decision-redriven', { transaction_id: decision.id, sequence: decision.sequence, epoch });
    });
    if (acks_needed === 0) run.release();
  }

  /** One pass of re-delivery; the node calls it every `decision_retry_interval_ms`. */
  async redeliver(): Promise<void> {
    if (this.delivering || this.undelivered.size === 0) return;
    this.delivering = true;
    try {
      const { members, epoch } = this.context.state;
      const pendings = new Map(this.undelivered);
      const messages = new Map<string, { commits: { transaction_id: string; sequence: number }[]; aborts: string[] }>();
      for (const [id, pending] of pendings) {
        for (const addr of pending.addrs) {
          if (!members.includes(addr)) {
            pending.addrs.delete(addr);
            continue;
          }
          let message = messages.get(addr);
          if (!message) messages.set(addr, (message = { commits: [], aborts: [] }));
          if (pending.kind === 'commit') {
            message.commits.push({ transaction_id: id, sequence: (pending.message as CommitRequest).sequence });
          } else {
            message.aborts.push(id);
          }
        }
      }
      // Each decision keeps the epoch it was made in; a backlog goes in messages the
      // participant accepts.
      await Promise.all(
        [...messages].map(async ([addr, message]) => {
          const batches = groupByEpoch(message, pendings).flatMap(({ epoch: part_epoch, ...part }) =>
            splitDecisions(part, batch_max_transactions).map((batch) => ({ coordinator: this.context.addr, ...(part_epoch !== undefined && { epoch: part_epoch }), ...batch })),
          );
          // Sent together: an unreachable participant costs one timeout a pass, not one a batch.
          await Promise.all(batches.map((batch) => this.sendDecisions(addr, batch, pendings)));
        }),
      );
      await this.applyHere(epoch, [...pendings.values()].filter((pending) => pending.kind === 'commit'));
      for (const [id, pending] of pendings) if (isDelivered(pending)) this.undelivered.delete(id);
    } finally {
      this.delivering = false;
    }
  }
}

/** The refusal of a submit whose id is known with other writes: nothing of it is applied. */
function refuseReusedId(id: string): SubmitAnswer {
  return { http_status: 422, body: { error: `transaction id ${id} was already used with other writes; a new transaction needs a new id`, transaction_id: id } };
}

/** How many nodes hold an ABORT applied after its first delivery (this one included). */
function countRemembering(pending: PendingDelivery, remote_recipients: number): number {
  if (pending.kind !== 'abort') return 0;
  return remote_recipients - pending.addrs.size + (pending.local_pending ? 0 : 1);
}

/** What the coordinator asks of the cluster about an aborted id (RecoveryService answers). */
export interface AbortQuestions {
  /** Every other member's view of `id`. */
  readonly askMembers: (id: string) => Promise<readonly MemberAnswer[]>;
  /** Make `addrs` remember an abort of `id`; gives the ones that did. */
  readonly rememberAbortAt: (id: string, addrs: readonly string[]) => Promise<readonly string[]>;
}

/** Split one participant's re-deliveries by the epoch each decision was made in. */
function groupByEpoch(
  message: { readonly commits: readonly { transaction_id: string; sequence: number }[]; readonly aborts: readonly string[] },
  pendings: ReadonlyMap<string, PendingDelivery>,
): DecideBatchRequest[] {
  const parts = new Map<number | undefined, { epoch?: number; commits: { transaction_id: string; sequence: number }[]; aborts: string[] }>();
  const partFor = (id: string) => {
    const epoch = pendings.get(id)?.message.epoch;
    let part = parts.get(epoch);
    if (!part) parts.set(epoch, (part = { ...(epoch !== undefined && { epoch }), commits: [], aborts: [] }));
    return part;
  };
  for (const commit of message.commits) partFor(commit.transaction_id).commits.push(commit);
  for (const id of message.aborts) partFor(id).aborts.push(id);
  return [...parts.values()];
}

/** A vote as the wire carries it, reduced to what the rules read. */
function normalizeVote(vote: PrepareResponse): PrepareResponse {
  return vote?.status === 'READY' ? { status: 'READY' } : { status: 'ABORT', reason: typeof vote?.reason === 'string' ? vote.reason : 'invalid vote', ...(typeof vote?.sequence === 'number' && { sequence: vote.sequence }) };
}

/** Roughly the bytes a payload takes on the wire, for the batch limit. */
function estimateSize(payload: Payload): number {
  return JSON.stringify(payload).length;
}

/** A round's decisions with its COMMITs numbered from `first`, in the round's order. */
function numberCommits(decisions: RoundDecisions, first: number): RoundDecisions {
  let next = first;
  return { ...decisions, decided: decisions.decided.map((entry) => (entry.outcome.decision === 'COMMIT' ? { ...entry, sequence: next++ } : entry)) };
}

/** A round's decisions when it got no sequence (its wait timed out, or this node no longer leads its epoch): every COMMIT becomes ABORT. */
function withoutSequences(decisions: RoundDecisions): RoundDecisions {
  const outcome: Outcome = { decision: 'ABORT', reason: 'lost mastership while waiting for a sequence' };
  return { ...decisions, decided: decisions.decided.map((entry) => (entry.outcome.decision === 'COMMIT' ? { ...entry, outcome } : entry)) };
}

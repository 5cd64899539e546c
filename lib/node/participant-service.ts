/**
 * Where the participant's messages are handled: runs the pure steps from
 * lib/two-phase-commit/participant.ts and performs the I/O they name.
 *
 * Messages come one at a time (`/prepare`, `/commit`, `/abort`) or in batches from a master
 * that groups transactions (`/prepare-batch`, `/decide-batch`); both go through the same
 * code. Every batch is handled whole, one after another, and written in one SQLite
 * transaction: one fsync for all of its transactions (group commit). Each transaction in it
 * is still stepped, voted and decided on its own.
 */
import type { AbortRequest, CommitRequest, CommittedEntry, DecideBatchRequest, PrepareBatchRequest, PrepareRequest, PrepareResponse } from '../protocol/messages.ts';
import { checkOrigin, stepAbort, stepCommit, stepLearn, stepPrepare, type LeaderView, type OriginRefusal, type ParticipantView } from '../two-phase-commit/participant.ts';
import { knownMasterOf } from '../cluster/election.ts';
import { adoptEpoch, type NodeContext } from './context.ts';
import { FailpointAbort } from './failpoints.ts';
import { assert } from '../util/assert.ts';
import { SerialQueue } from '../util/serial-queue.ts';
import { isSamePayload } from '../protocol/payload.ts';
import type { AbortInput, CommitInput, ParticipantWrites, PreparedInput } from '../storage/participant-log.ts';
import { noteStoreFault } from './store-faults.ts';
import { choosePrepareSync, type LocalApplySync, type PrepareOrigin } from '../two-phase-commit/local-apply-sync.ts';

export type DecisionAnswer =
  | { readonly ok: true; readonly status: 'COMMITTED' | 'ABORTED' }
  | { readonly ok: false; readonly http_status: 404 | 409; readonly error: string };

export interface DecideBatchAnswer {
  readonly commits: readonly DecisionAnswer[];
  readonly aborts: readonly DecisionAnswer[];
}

export class ParticipantService {
  /**
   * Every change to this node's participant state runs here, one batch at a time: a
   * duplicate, a crossing commit and abort, or a retry always sees the previous one's result.
   */
  private readonly queue = new SerialQueue();

  constructor(private readonly context: NodeContext) {}

  /** Phase one: READY only once the transaction and its writes are on disk with its keys locked. */
  async prepare(request: PrepareRequest): Promise<PrepareResponse> {
    const { transaction_id, payload, ...round } = request;
    const [vote] = await this.prepareBatch({ ...round, transactions: [{ transaction_id, payload }] });
    assert(vote !== undefined, 'one vote for one transaction');
    return vote;
  }

  async commit(request: CommitRequest): Promise<DecisionAnswer> {
    const { transaction_id, sequence, ...round } = request;
    const answer = await this.decideBatch({ ...round, commits: [{ transaction_id, sequence }], aborts: [] });
    assert(answer.commits[0] !== undefined, 'one answer for one commit');
    return answer.commits[0];
  }

  async abort(request: AbortRequest): Promise<DecisionAnswer> {
    const { transaction_id, ...round } = request;
    const answer = await this.decideBatch({ ...round, commits: [], aborts: [transaction_id] });
    assert(answer.aborts[0] !== undefined, 'one answer for one abort');
    return answer.aborts[0];
  }

  /** Vote on every transaction of a batch, in order; the READY ones are persisted together. */
  prepareBatch(batch: PrepareBatchRequest, origin: PrepareOrigin = 'peer'): Promise<readonly PrepareResponse[]> {
    return this.queue.run(() => this.runPrepareBatch(batch, origin));
  }

  /**
   * Apply a batch of decisions, each checked on its own, persisted together. Decisions go
   * ahead of prepares still waiting: they release locks, and the master reserves its next
   * run of sequences only once they are applied. (A decision never concerns a transaction
   * whose prepare is still waiting: the master decides only on answered votes.)
   */
  decideBatch(batch: DecideBatchRequest, sync: LocalApplySync = 'synced'): Promise<DecideBatchAnswer> {
    return this.queue.run(() => this.runDecideBatch(batch, sync), true);
  }

  /** `origin` is `own-round` for the coordinator's direct call: its records are then written unsynced (lib/two-phase-commit/local-apply-sync.ts). */
  private async runPrepareBatch(batch: PrepareBatchRequest, origin: PrepareOrigin): Promise<readonly PrepareResponse[]> {
    const { context } = this;
    const refused = checkOrigin(this.leaderView(), batch);
    // A stale epoch is answered per transaction (a duplicate may still learn its outcome).
    if (refused !== undefined && refused !== 'stale epoch') {
      context.log.warn('coordinator-refused', { coordinator: batch.coordinator, epoch: batch.epoch, reason: refused, transactions: batch.transactions.length });
      return batch.transactions.map(() => ({ status: 'ABORT', reason: refused }));
    }
    if (batch.epoch !== undefined && refused === undefined) await adoptEpoch(context, batch.epoch);
    try {
      await context.failpoints.hit('before-prepare-vote');
    } catch (error) {
      if (error instanceof FailpointAbort) return batch.transactions.map(() => ({ status: 'ABORT', reason: 'failpoint' }));
      throw error;
    }
    const now_ms = context.clock.now_ms();
    const votes: PrepareResponse[] = [];
    const prepared: PreparedInput[] = [];
    const seen = new Set<string>();
    // Read together before any step: nothing of this batch is written before its steps are done.
    const records = context.participant_log.findManyNow(batch.transactions.map((transaction) => transaction.transaction_id));
    for (const [index, { transaction_id, payload }] of batch.transactions.entries()) {
      if (seen.has(transaction_id)) {
        votes.push({ status: 'ABORT', reason: 'duplicate in batch' });
        continue;
      }
      seen.add(transaction_id);
      const request: PrepareRequest = { ...batch, transaction_id, payload };
      const record = records[index];
      const known = record?.payload !== undefined && record.state !== 'ABORTED';
      const step = stepPrepare(
        {
          ...this.view(record?.state),
          ...(record?.sequence !== undefined && { committed_sequence: record.sequence }),
          ...(known && { payload_matches: isSamePayload(record.payload, payload) }),
          ...(record?.state === 'PREPARED' && { prepared_by: { epoch: record.epoch, ...(record.coordinator !== undefined && { coordinator: record.coordinator }) } }),
        },
        request,
      );
      if (step.kind === 'answer') {
        votes.push(step.response);
        continue;
      }
      // Locked now: a later transaction of this very batch shares the key (same round), another round's conflicts.
      const epoch = batch.epoch ?? context.state.epoch;
      context.locks.acquire({ transaction_id, coordinator: batch.coordinator, epoch }, step.keys);
      prepared.push({
        id: transaction_id,
        payload,
        epoch,
        now_ms,
        ...(batch.coordinator !== undefined && { coordinator: batch.coordinator }),
        ...(batch.participants !== undefined && { participants: batch.participants }),
      });
      votes.push({ status: 'READY' });
    }
    try {
      if (context.bugs['ready-before-durable']) this.writeLater(prepared);
      else context.participant_log.write({ prepared, committed: [], aborted: [] }, context.bugs['peer-prepare-unsynced'] ? 'unsynced' : choosePrepareSync(origin));
      if (context.bugs['apply-on-prepare']) this.applyOnPrepare(prepared);
    } catch (error) {
      for (const input of prepared) context.locks.release(input.id);
      context.log.warn('prepare-persist-failed', { transactions: prepared.length, error: String(error) });
      noteStoreFault(context, error);
      return votes.map((vote) => (vote.status === 'READY' ? { status: 'ABORT', reason: 'storage error' } : vote));
    }
    for (const input of prepared) context.log.info('prepared', { transaction_id: input.id, epoch: context.state.epoch });
    if (prepared.length > 0) await context.failpoints.hit('after-prepare-persist').catch(() => undefined);
    return votes;
  }

  /** `sync` is `unsynced` only for the coordinator's own apply of commits durable elsewhere (lib/two-phase-commit/local-apply-sync.ts). */
  private async runDecideBatch(batch: DecideBatchRequest, sync: LocalApplySync): Promise<DecideBatchAnswer> {
    const { context } = this;
    const refused = checkOrigin(this.leaderView(), batch);
    const now_ms = context.clock.now_ms();
    const committed: CommitInput[] = [];
    const aborted: AbortInput[] = [];
    const remembered = new Set<string>();
    const seen = new Set<string>();
    const commits = batch.commits.map(({ transaction_id, sequence }): DecisionAnswer => {
      if (seen.has(transaction_id)) return { ok: false, http_status: 409, error: 'duplicate in batch' };
      seen.add(transaction_id);
      const record = context.participant_log.findNow(transaction_id);
      const step = stepCommit(this.view(record?.state, refused), { transaction_id, sequence, ...(batch.epoch !== undefined && { epoch: batch.epoch }) });
      if (step.kind === 'acknowledge') return { ok: true, status: 'COMMITTED' };
      if (step.kind === 'reject') return { ok: false, http_status: step.status, error: step.error };
      assert(record?.payload !== undefined, `prepared transaction ${transaction_id} has its writes`);
      committed.push({
        transaction_id,
        sequence,
        payload: record.payload,
        epoch: batch.epoch ?? record.epoch,
        now_ms,
        ...(record.coordinator !== undefined && { coordinator: record.coordinator }),
      });
      return { ok: true, status: 'COMMITTED' };
    });
    const aborts = batch.aborts.map((transaction_id): DecisionAnswer => {
      if (seen.has(transaction_id)) return { ok: false, http_status: 409, error: 'duplicate in batch' };
      seen.add(transaction_id);
      const record = context.participant_log.findNow(transaction_id);
      const step = stepAbort({ ...this.view(record?.state, refused), ...(record?.state === 'PREPARED' && { prepared_by: { epoch: record.epoch, ...(record.coordinator !== undefined && { coordinator: record.coordinator }) } }) }, { transaction_id, ...(batch.epoch !== undefined && { epoch: batch.epoch }), ...(batch.coordinator !== undefined && { coordinator: batch.coordinator }) });
      if (step.kind === 'acknowledge') return { ok: true, status: 'ABORTED' };
      if (step.kind === 'reject') return { ok: false, http_status: step.status, error: step.error };
      if (step.kind === 'remember') remembered.add(transaction_id);
      aborted.push({ id: transaction_id, epoch: batch.epoch ?? context.state.epoch, now_ms, ...(batch.coordinator !== undefined && { coordinator: batch.coordinator }) });
      return { ok: true, status: 'ABORTED' };
    });
    // Logged only for what was refused: another member's fence of an id never prepared here
    // is taken although its sender is not the master (stepAbort).
    const origin_refused = [...commits, ...aborts].filter((answer) => !answer.ok && answer.error === refused).length;
    if (refused !== undefined && origin_refused > 0) context.log.warn('coordinator-refused', { coordinator: batch.coordinator, epoch: batch.epoch, reason: refused, decisions: origin_refused });
    // A newer epoch counts once its master's decision acts here (a decision for an id never
    // prepared here moves nothing).
    if (refused === undefined && batch.epoch !== undefined && committed.length + aborted.length > 0) await adoptEpoch(context, batch.epoch);
    if (committed.length > 0) await context.failpoints.hit('before-commit-apply');
    if (aborted.length > 0) await context.failpoints.hit('before-abort-apply');
    this.persist({ prepared: [], committed, aborted }, sync);
    for (const entry of committed) {
      this.noteApplied(entry.sequence);
      context.locks.release(entry.transaction_id);
      context.log.info('committed', { transaction_id: entry.transaction_id, sequence: entry.sequence, epoch: context.state.epoch });
    }
    for (const input of aborted) {
      context.locks.release(input.id);
      context.log.info(remembered.has(input.id) ? 'abort-remembered' : 'aborted', { transaction_id: input.id, epoch: context.state.epoch });
    }
    if (committed.length > 0) await context.failpoints.hit('after-commit-apply');
    return { commits, aborts };
  }

  /**
   * Apply committed transactions learnt from a peer's log (catch-up, anti-entropy), a page
   * in one local transaction. A transaction held PREPARED here takes the logged commit.
   * Returns how many were new here.
   */
  learnCommitted(entries: readonly CommittedEntry[]): Promise<number> {
    return this.queue.run(async () => {
      const { context } = this;
      const now_ms = context.clock.now_ms();
      const committed: CommitInput[] = [];
      const seen = new Set<string>();
      for (const entry of entries) {
        const sequence_applied = context.sequences.has(entry.sequence);
        const id_seen = seen.has(entry.transaction_id);
        // Read only when it can matter (the hot path of a long catch-up).
        const record = sequence_applied || id_seen ? undefined : context.participant_log.findNow(entry.transaction_id);
        const step = stepLearn(record?.state, sequence_applied, id_seen);
        if (step.kind === 'skip') continue;
        if (step.superseding_abort) context.log.warn('abort-superseded', { transaction_id: entry.transaction_id, sequence: entry.sequence });
        seen.add(entry.transaction_id);
        committed.push({ ...entry, epoch: record?.epoch ?? context.state.epoch, now_ms, ...(record?.coordinator !== undefined && { coordinator: record.coordinator }) });
      }
      this.persist({ prepared: [], committed, aborted: [] });
      for (const entry of committed) {
        this.noteApplied(entry.sequence);
        context.locks.release(entry.transaction_id);
        context.log.info('committed', { transaction_id: entry.transaction_id, sequence: entry.sequence, epoch: context.state.epoch, via: 'catch-up' });
      }
      return committed.length;
    });
  }

  /**
   * Forget the replica, durably and between two batches: every kv row and committed
   * transaction goes, nothing counts as applied. The node then pulls the whole log again.
   */
  resetReplica(): Promise<void> {
    return this.queue.run(async () => {
      const { context } = this;
      context.participant_log.resetReplica();
      context.sequences.reset();
      context.state.max_sequence = 0;
      context.log.warn('replica-reset', { epoch: context.state.epoch });
    }, true);
  }

  /** Planted bug `ready-before-durable`: the prepares reach the disk a little after READY went out. */
  private writeLater(prepared: readonly PreparedInput[]): void {
    const write = () => this.context.participant_log.write({ prepared, committed: [], aborted: [] });
    void this.context.timers.sleep(this.context.limits.decision_retry_interval_ms).then(write).catch(() => undefined);
  }

  /** Planted bug `apply-on-prepare`: the writes are applied at prepare, at the next sequences this node expects. */
  private applyOnPrepare(prepared: readonly PreparedInput[]): void {
    const { context } = this;
    const committed = prepared.map((input, index) => ({ transaction_id: input.id, sequence: context.state.max_sequence + 1 + index, payload: input.payload, epoch: input.epoch, now_ms: input.now_ms }));
    context.participant_log.write({ prepared: [], committed, aborted: [] });
    for (const entry of committed) {
      this.noteApplied(entry.sequence);
      context.log.info('committed', { transaction_id: entry.transaction_id, sequence: entry.sequence, epoch: context.state.epoch });
    }
  }

  /** Write a batch; a store fault takes the node out of the alive set before the error goes on. */
  private persist(writes: ParticipantWrites, sync: LocalApplySync = 'synced'): void {
    try {
      this.context.participant_log.write(writes, sync);
    } catch (error) {
      noteStoreFault(this.context, error);
      throw error;
    }
  }

  /** Record that `sequence` is applied here. */
  noteApplied(sequence: number): void {
    this.context.sequences.add(sequence);
    if (sequence > this.context.state.max_sequence) this.context.state.max_sequence = sequence;
  }

  private view(state: ParticipantView['state'], origin_refused?: OriginRefusal): ParticipantView {
    const { context } = this;
    return {
      epoch: context.state.epoch,
      phase: context.state.phase,
      state,
      // Planted bug `prepare-ignores-locks`: no key counts as held, whoever prepared it.
      lockHolders: (key) => (context.bugs['prepare-ignores-locks'] ? [] : context.locks.holdersOf(key)),
      isMember: (addr) => context.state.members.includes(addr),
      ...(origin_refused !== undefined && { origin_refused }),
    };
  }

  /** Who leads which epoch, as far as this node knows: its own term, its grant, a peer's report as master. */
  private leaderView(): LeaderView {
    const { context } = this;
    const { state } = context;
    return {
      epoch: state.epoch,
      isMember: (addr) => state.members.includes(addr),
      masterOf: (epoch) =>
        knownMasterOf(epoch, {
          addr: context.addr,
          term: state.term,
          granted: state.granted,
          reported_masters: [...state.peers.values()].flatMap((peer) => (peer.last_report?.role === 'MASTER' ? [{ addr: peer.addr, epoch: peer.last_report.epoch }] : [])),
        }),
    };
  }
}

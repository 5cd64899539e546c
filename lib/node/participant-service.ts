/**
 * Where the participant's messages are handled: runs the pure steps from
 * lib/two-phase-commit/participant.ts and performs the I/O they name.
 */
import type { AbortRequest, CommitRequest, PrepareRequest, PrepareResponse } from '../protocol/messages.ts';
import { acceptsCoordinator, stepAbort, stepCommit, stepPrepare, type ParticipantView } from '../two-phase-commit/participant.ts';
import { adoptEpoch, type NodeContext } from './context.ts';
import { FailpointAbort } from './failpoints.ts';
import { assert } from '../util/assert.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import type { Payload } from '../protocol/payload.ts';

export type DecisionAnswer =
  | { readonly ok: true; readonly status: 'COMMITTED' | 'ABORTED' }
  | { readonly ok: false; readonly http_status: 404 | 409; readonly error: string };

export class ParticipantService {
  /** Each transaction's messages run one at a time, so duplicates and crossings see each other's result. */
  private readonly per_transaction = new KeyedMutex();

  constructor(private readonly context: NodeContext) {}

  /** Phase one: READY only once the transaction and its writes are on disk with its keys locked. */
  prepare(request: PrepareRequest): Promise<PrepareResponse> {
    return this.per_transaction.run(request.transaction_id, () => this.runPrepare(request));
  }

  commit(request: CommitRequest): Promise<DecisionAnswer> {
    return this.per_transaction.run(request.transaction_id, () => this.runCommit(request));
  }

  abort(request: AbortRequest): Promise<DecisionAnswer> {
    return this.per_transaction.run(request.transaction_id, () => this.runAbort(request));
  }

  private async runPrepare(request: PrepareRequest): Promise<PrepareResponse> {
    const { context } = this;
    if (request.epoch !== undefined && acceptsCoordinator(this.view(undefined), request.coordinator)) await adoptEpoch(context, request.epoch);
    try {
      await context.failpoints.hit('before-prepare-vote');
    } catch (error) {
      if (error instanceof FailpointAbort) return { status: 'ABORT', reason: 'failpoint' };
      throw error;
    }
    const record = await context.participant_log.find(request.transaction_id);
    const known = record?.payload !== undefined && record.state !== 'ABORTED';
    const step = stepPrepare(
      {
        ...this.view(record?.state),
        ...(record?.sequence !== undefined && { committed_sequence: record.sequence }),
        ...(known && { payload_matches: samePayload(record.payload, request.payload) }),
      },
      request,
    );
    if (step.kind === 'answer') return step.response;
    context.locks.acquire(request.transaction_id, step.keys);
    try {
      await context.participant_log.insertPrepared({
        id: request.transaction_id,
        payload: request.payload,
        epoch: request.epoch ?? context.state.epoch,
        now_ms: context.clock.now_ms(),
        ...(request.coordinator !== undefined && { coordinator: request.coordinator }),
        ...(request.participants !== undefined && { participants: request.participants }),
      });
    } catch (error) {
      context.locks.release(request.transaction_id);
      context.log.warn('prepare-persist-failed', { transaction_id: request.transaction_id, error: String(error) });
      return { status: 'ABORT', reason: 'storage error' };
    }
    context.log.info('prepared', { transaction_id: request.transaction_id, epoch: context.state.epoch });
    await context.failpoints.hit('after-prepare-persist').catch(() => undefined);
    return { status: 'READY' };
  }

  private async runCommit(request: CommitRequest): Promise<DecisionAnswer> {
    const { context } = this;
    if (request.epoch !== undefined) await adoptEpoch(context, request.epoch);
    const record = await context.participant_log.find(request.transaction_id);
    const step = stepCommit(this.view(record?.state), request);
    if (step.kind === 'acknowledge') return { ok: true, status: 'COMMITTED' };
    if (step.kind === 'reject') return { ok: false, http_status: step.status, error: step.error };
    assert(record?.payload !== undefined, `prepared transaction ${request.transaction_id} has its writes`);
    await context.failpoints.hit('before-commit-apply');
    const sequence = request.sequence ?? context.state.max_sequence + 1;
    await context.participant_log.applyCommit({
      transaction_id: request.transaction_id,
      sequence,
      payload: record.payload,
      epoch: request.epoch ?? record.epoch,
      now_ms: context.clock.now_ms(),
      ...(record.coordinator !== undefined && { coordinator: record.coordinator }),
    });
    this.noteApplied(sequence);
    context.locks.release(request.transaction_id);
    context.log.info('committed', { transaction_id: request.transaction_id, sequence, epoch: context.state.epoch });
    await context.failpoints.hit('after-commit-apply');
    return { ok: true, status: 'COMMITTED' };
  }

  private async runAbort(request: AbortRequest): Promise<DecisionAnswer> {
    const { context } = this;
    if (request.epoch !== undefined) await adoptEpoch(context, request.epoch);
    const record = await context.participant_log.find(request.transaction_id);
    const step = stepAbort(this.view(record?.state), request);
    if (step.kind === 'acknowledge') return { ok: true, status: 'ABORTED' };
    if (step.kind === 'reject') return { ok: false, http_status: step.status, error: step.error };
    await context.failpoints.hit('before-abort-apply');
    await context.participant_log.markAborted(request.transaction_id, request.epoch ?? context.state.epoch, context.clock.now_ms(), request.coordinator);
    context.locks.release(request.transaction_id);
    context.log.info(step.kind === 'remember' ? 'abort-remembered' : 'aborted', { transaction_id: request.transaction_id, epoch: context.state.epoch });
    return { ok: true, status: 'ABORTED' };
  }

  /** Record that `sequence` is applied here. */
  noteApplied(sequence: number): void {
    this.context.sequences.add(sequence);
    if (sequence > this.context.state.max_sequence) this.context.state.max_sequence = sequence;
  }

  private view(state: ParticipantView['state']): ParticipantView {
    const { context } = this;
    return {
      epoch: context.state.epoch,
      phase: context.state.phase,
      state,
      lockHolder: (key) => context.locks.holderOf(key),
      isMember: (addr) => context.state.members.includes(addr),
    };
  }
}

/** The same writes: equal as JSON, whatever the key order. */
function samePayload(a: Payload | undefined, b: Payload): boolean {
  if (a === undefined) return false;
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(payload: Payload): string {
  return JSON.stringify(Object.keys(payload).sort().map((key) => [key, payload[key]]));
}

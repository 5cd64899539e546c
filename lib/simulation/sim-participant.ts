/**
 * The participant's side of a simulated node (lib/node/participant-service.ts): runs the
 * real pure steps (stepPrepare, stepCommit, stepAbort, acceptsCoordinator) and performs the
 * writes they name, PREPARED on disk before READY, one message of a transaction at a time.
 * A prepare's view carries the committed sequence and whether the stored writes match, as
 * the real service passes them.
 */
import type { AbortRequest, CommitRequest, PrepareRequest, PrepareResponse } from '../protocol/messages.ts';
import { acceptsCoordinator, stepAbort, stepCommit, stepPrepare } from '../two-phase-commit/participant.ts';
import type { Payload } from '../protocol/payload.ts';
import type { DecisionAnswer } from './rpc.ts';
import type { SimNode } from './sim-node.ts';

export class SimParticipant {
  constructor(private readonly node: SimNode) {}

  prepare(request: PrepareRequest, reply: (answer: PrepareResponse) => void): void {
    this.node.serial(request.transaction_id, (done) => this.runPrepare(request, (answer) => { reply(answer); done(); }));
  }

  commit(request: CommitRequest, reply: (answer: DecisionAnswer) => void): void {
    this.node.serial(request.transaction_id, (done) => this.runCommit(request, (answer) => { reply(answer); done(); }));
  }

  abort(request: AbortRequest, reply: (answer: DecisionAnswer) => void): void {
    this.node.serial(request.transaction_id, (done) => this.runAbort(request, (answer) => { reply(answer); done(); }));
  }

  /** Record that `sequence` is applied here. */
  noteApplied(sequence: number): void {
    const { state } = this.node;
    state.sequences.add(sequence);
    if (sequence > state.max_sequence) state.max_sequence = sequence;
  }

  private runPrepare(request: PrepareRequest, reply: (answer: PrepareResponse) => void): void {
    const { node } = this;
    const id = request.transaction_id;
    const vote = (): void => {
      const record = node.store.records.get(id);
      // As participant-service.ts: a COMMITTED id answers with its sequence, and an id held
      // with other writes is refused.
      const known = record?.payload !== undefined && record.state !== 'ABORTED';
      const step = stepPrepare(
        {
          ...node.participantView(record?.state),
          ...(record?.sequence !== undefined && { committed_sequence: record.sequence }),
          ...(known && { payload_matches: samePayload(record.payload, request.payload) }),
          ...(record?.state === 'PREPARED' && { prepared_by: { epoch: record.epoch, ...(record.coordinator !== undefined && { coordinator: record.coordinator }) } }),
        },
        request,
      );
      if (step.kind === 'answer') return reply(step.response);
      node.state.locks.acquire(id, step.keys);
      const epoch = request.epoch ?? node.epoch;
      node.persist(`prepared ${id}`, () => {
        node.store.insertPrepared({
          id,
          payload: request.payload,
          epoch,
          updated_at: node.world.now_ms,
          ...(request.coordinator !== undefined && { coordinator: request.coordinator }),
          ...(request.participants !== undefined && { participants: request.participants }),
        });
      }, () => {
        node.note(`prepared ${id} epoch=${epoch}`);
        if (node.bugs.apply_on_prepare) return this.applyWrites(id, node.state.max_sequence + 1, request.epoch, () => reply({ status: 'READY' }));
        reply({ status: 'READY' });
      });
    };
    if (request.epoch !== undefined && acceptsCoordinator(node.participantView(undefined), request.coordinator)) node.adoptEpoch(request.epoch, vote);
    else vote();
  }

  private runCommit(request: CommitRequest, reply: (answer: DecisionAnswer) => void): void {
    const { node } = this;
    const apply = (): void => {
      const record = node.store.records.get(request.transaction_id);
      const step = stepCommit(node.participantView(record?.state), request);
      if (step.kind === 'acknowledge') return reply({ ok: true, status: 'COMMITTED' });
      if (step.kind === 'reject') return reply({ ok: false, http_status: step.status, error: step.error });
      const sequence = request.sequence ?? node.state.max_sequence + 1;
      this.applyWrites(request.transaction_id, sequence, request.epoch, (error) => {
        reply(error === undefined ? { ok: true, status: 'COMMITTED' } : { ok: false, http_status: 500, error });
      });
    };
    if (request.epoch !== undefined) node.adoptEpoch(request.epoch, apply);
    else apply();
  }

  /** Apply a PREPARED transaction's writes at `sequence`, mark it COMMITTED, release its locks. */
  private applyWrites(id: string, sequence: number, epoch: number | undefined, then: (error?: string) => void): void {
    const { node } = this;
    const record = node.store.records.get(id);
    if (record?.payload === undefined) {
      node.world.violate('prepared-has-writes', `${node.addr}: prepared ${id} has no writes`);
      return then('no writes');
    }
    const payload = record.payload;
    node.persist(`commit ${id}`, () => {
      node.store.applyCommit({
        transaction_id: id,
        sequence,
        payload,
        epoch: epoch ?? record.epoch,
        now_ms: node.world.now_ms,
        ...(record.coordinator !== undefined && { coordinator: record.coordinator }),
      });
    }, () => {
      this.noteApplied(sequence);
      node.state.locks.release(id);
      node.note(`committed ${id} seq=${sequence}`);
      node.world.recordApplied(node.addr, id, sequence);
      then();
    });
  }

  private runAbort(request: AbortRequest, reply: (answer: DecisionAnswer) => void): void {
    const { node } = this;
    const release = (): void => {
      const record = node.store.records.get(request.transaction_id);
      const step = stepAbort(node.participantView(record?.state), request);
      if (step.kind === 'acknowledge') return reply({ ok: true, status: 'ABORTED' });
      if (step.kind === 'reject') return reply({ ok: false, http_status: step.status, error: step.error });
      node.persist(`abort ${request.transaction_id}`, () => {
        node.store.markAborted(request.transaction_id, request.epoch ?? node.epoch, node.world.now_ms, request.coordinator);
      }, () => {
        node.state.locks.release(request.transaction_id);
        node.note(`${step.kind === 'remember' ? 'abort-remembered' : 'aborted'} ${request.transaction_id}`);
        reply({ ok: true, status: 'ABORTED' });
      });
    };
    if (request.epoch !== undefined) node.adoptEpoch(request.epoch, release);
    else release();
  }
}

/** The same writes: equal as JSON, whatever the key order (participant-service.ts, samePayload). */
function samePayload(a: Payload | undefined, b: Payload): boolean {
  if (a === undefined) return false;
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(payload: Payload): string {
  return JSON.stringify(Object.keys(payload).sort().map((key) => [key, payload[key]]));
}

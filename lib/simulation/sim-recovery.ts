/**
 * How a simulated node gets back to the truth (lib/node/recovery-service.ts): pulling the
 * committed log it missed, resolving PREPARED transactions with the real `resolveInDoubt`,
 * and settling COMMIT decisions from an earlier life with the real `reconcileDecision`.
 */
import type { CommittedEntry } from '../protocol/messages.ts';
import { reconcileDecision, resolveInDoubt, type PeerAnswer } from '../two-phase-commit/termination.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import type { TxRecord } from './durable-store.ts';
import { forAllInParallel, forEachInSeries, type SimNode } from './sim-node.ts';

export class SimRecovery {
  private readonly resolving = new Set<string>();
  /** Each unconfirmed COMMIT decision's sequence (recovery-service.ts, `unconfirmed`). */
  private readonly unconfirmed = new Map<string, number | undefined>();
  /** When this incarnation first saw each PREPARED transaction (simulated ms). */
  private readonly first_seen_ms = new Map<string, number>();

  constructor(private readonly node: SimNode) {}

  isUnconfirmed(id: string): boolean {
    return this.unconfirmed.has(id);
  }

  get unconfirmed_count(): number {
    return this.unconfirmed.size;
  }

  loadUnconfirmed(): void {
    for (const id of this.node.store.listUnappliedDecisions()) this.unconfirmed.set(id, this.node.store.decisions.get(id)?.sequence);
  }

  adoptUnconfirmed(id: string, sequence: number | undefined): void {
    this.unconfirmed.set(id, sequence);
    this.node.note(`unconfirmed ${id}${sequence !== undefined ? ` seq=${sequence}` : ''} (stepped down before another replica applied it)`);
  }

  /** The highest sequence of a COMMIT decision here that is neither applied nor withdrawn yet (0: none). */
  maxUnconfirmedSequence(): number {
    let max = 0;
    for (const sequence of this.unconfirmed.values()) if (sequence !== undefined && sequence > max) max = sequence;
    return max;
  }

  /** Apply every committed transaction `source` has that this node lacks; `then(false)` if it could not be read. */
  pullLog(source: string, then: (ok: boolean) => void): void {
    const { node } = this;
    node.call(source, 'log', { after: node.state.sequences.applied_through }, node.limits.peer_query_timeout_ms, (reply) => {
      if (!reply.ok) return then(false);
      let failed = false;
      forEachInSeries(reply.body.entries, (entry, next) => this.applyEntry(entry, (ok) => {
        if (!ok) failed = true;
        next();
      }), () => then(!failed));
    });
  }

  private applyEntry(entry: CommittedEntry, then: (ok: boolean) => void): void {
    const { node } = this;
    if (node.state.sequences.has(entry.sequence)) return then(true);
    const record = node.store.records.get(entry.transaction_id);
    if (record?.state === 'COMMITTED') return then(true);
    if (record?.state === 'PREPARED') return node.participant.commit({ transaction_id: entry.transaction_id, sequence: entry.sequence }, (answer) => then(answer.ok));
    // The log is the cluster's word: an abort here was an earlier round of a retried id, and
    // the retry's commit supersedes it (participant-service.ts, learnCommitted).
    if (record?.state === 'ABORTED') node.note(`abort-superseded ${entry.transaction_id} seq=${entry.sequence}`);
    node.persist(`catch-up ${entry.transaction_id}`, () => {
      node.store.applyCommit({ ...entry, epoch: node.epoch, now_ms: node.world.now_ms });
    }, () => {
      node.participant.noteApplied(entry.sequence);
      node.note(`caught-up ${entry.transaction_id} seq=${entry.sequence}`);
      node.world.recordApplied(node.addr, entry.transaction_id, entry.sequence);
      then(true);
    });
  }

  /**
   * A take-over (recovery-service.ts, settleForTakeOver): settle what the cluster can
   * (`reconcile`), then split what is left. A COMMIT decision whose sequence is above
   * everything known applied is handed back for the new term to finish; one whose sequence
   * another transaction took (or that is applied here) is withdrawn.
   */
  settleForTakeOver(known_max_applied: number, then: (adopted: readonly DecisionRecord[]) => void): void {
    const { node } = this;
    this.reconcile(() => {
      const adopted: DecisionRecord[] = [];
      forEachInSeries([...this.unconfirmed.keys()], (id, next) => {
        const decision = node.store.decisions.get(id);
        if (decision?.decision !== 'COMMIT' || decision.sequence === undefined) {
          this.unconfirmed.delete(id);
          return next();
        }
        if (node.store.records.get(id)?.state === 'COMMITTED') {
          this.unconfirmed.delete(id);
          return next();
        }
        if (decision.sequence > known_max_applied && !node.state.sequences.has(decision.sequence)) {
          adopted.push(decision);
          this.unconfirmed.delete(id);
          return next();
        }
        if (!node.state.sequences.has(decision.sequence)) {
          node.note(`reconcile ${id} keep (sequence ${decision.sequence} known applied only by an unreachable peer, maybe this very decision)`);
          return next();
        }
        node.note(`reconcile ${id} withdraw (sequence ${decision.sequence} is taken)`);
        node.persist(`withdraw ${id}`, () => node.store.withdrawDecision(id), () => node.participant.abort({ transaction_id: id }, () => {
          this.unconfirmed.delete(id);
          next();
        }));
      }, () => then(adopted.sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0))));
    });
  }

  /** Settle every unconfirmed decision the cluster can settle now. */
  reconcile(then: () => void): void {
    forAllInParallel<string, undefined>([...this.unconfirmed.keys()], (id, done) => this.reconcileOne(id, () => done(undefined)), () => then());
  }

  private reconcileOne(id: string, then: () => void): void {
    const { node } = this;
    const decision = node.store.decisions.get(id);
    if (!decision) return then();
    this.askAll(decision.participants.filter((addr) => addr !== node.addr), id, (answers) => {
      if (!this.unconfirmed.has(id)) return then();
      const outcome = reconcileDecision(answers);
      node.note(`reconcile ${id} ${outcome.kind}`);
      if (outcome.kind === 'wait') return then();
      const settled = (): void => {
        this.unconfirmed.delete(id);
        then();
      };
      if (outcome.kind === 'commit') return node.participant.commit({ transaction_id: id, sequence: outcome.sequence }, settled);
      node.persist(`withdraw ${id}`, () => node.store.withdrawDecision(id), () => node.participant.abort({ transaction_id: id }, () => {
        // A non-master forgets its reservations with the withdrawn decision (recovery-service.ts).
        if (node.state.role !== 'MASTER') node.state.max_sequence = node.state.sequences.max_applied;
        settled();
      }));
    });
  }

  /**
   * One pass over PREPARED transactions this incarnation has seen for `in_doubt_after_ms`,
   * only while serving: a node that has not caught up may lack the commit that settles one.
   */
  resolveStale(then: () => void): void {
    const { node } = this;
    if (node.state.phase !== 'serving') return then();
    this.reconcile(() => {
      const now_ms = node.world.now_ms;
      const prepared = node.store.listPrepared();
      const still = new Set(prepared.map((record) => record.id));
      for (const id of this.first_seen_ms.keys()) if (!still.has(id)) this.first_seen_ms.delete(id);
      const due = prepared.filter((record) => {
        const first_seen_ms = this.first_seen_ms.get(record.id) ?? now_ms;
        this.first_seen_ms.set(record.id, first_seen_ms);
        return now_ms - first_seen_ms >= node.limits.in_doubt_after_ms;
      });
      forAllInParallel<TxRecord, undefined>(due, (record, done) => this.resolve(record, () => done(undefined)), () => then());
    });
  }

  /** Resolve every PREPARED transaction now (a new master's take-over). */
  resolveAll(then: () => void): void {
    forAllInParallel<TxRecord, undefined>(this.node.store.listPrepared(), (record, done) => this.resolve(record, () => done(undefined)), () => then());
  }

  private resolve(record: TxRecord, then: () => void): void {
    const { node } = this;
    if (this.resolving.has(record.id) || this.unconfirmed.has(record.id)) return then();
    this.resolving.add(record.id);
    const finish = (): void => {
      this.resolving.delete(record.id);
      then();
    };
    const own = node.viewTransaction(record.id);
    if (own.decision === 'COMMIT') return finish();
    // Every member, not only the round's participants: a client may have retried the same id
    // through a later master, whose round is the one that counts.
    const asked = [...new Set([...(record.participants ?? []), ...node.members])].filter((addr) => addr !== node.addr);
    this.askAll(asked, record.id, (peer_answers) => {
      const answers: PeerAnswer[] = [...peer_answers, { addr: node.addr, view: own }];
      const resolution = resolveInDoubt(record.coordinator, answers, record.participants);
      node.note(`in-doubt ${record.id} ${resolution.kind}${resolution.kind === 'commit' ? ` seq=${resolution.sequence}` : ''}`);
      if (resolution.kind === 'commit') return node.participant.commit({ transaction_id: record.id, sequence: resolution.sequence }, finish);
      if (resolution.kind === 'abort') return node.participant.abort({ transaction_id: record.id }, finish);
      if (resolution.kind === 'fence') {
        return this.fence(record.id, resolution.addrs, (all) => (all ? node.participant.abort({ transaction_id: record.id }, finish) : finish()));
      }
      finish();
    });
  }

  private askAll(addrs: readonly string[], id: string, then: (answers: readonly PeerAnswer[]) => void): void {
    const { node } = this;
    forAllInParallel<string, PeerAnswer>(
      addrs,
      (addr, done) => node.call(addr, 'view', { transaction_id: id }, node.limits.peer_query_timeout_ms, (reply) => done({ addr, view: reply.ok ? reply.body : undefined })),
      then,
    );
  }

  private fence(id: string, addrs: readonly string[], then: (all: boolean) => void): void {
    const { node } = this;
    const message = { transaction_id: id, epoch: node.epoch };
    forAllInParallel<string, boolean>(
      addrs,
      (addr, done) => {
        if (addr === node.addr) return node.participant.abort(message, (answer) => done(answer.ok));
        node.call(addr, 'abort', message, node.limits.peer_query_timeout_ms, (reply) => done(reply.ok && reply.body.ok));
      },
      (results) => then(results.every(Boolean)),
    );
  }
}

/**
 * Does this replica still hold what it applied, and the same as the others? It keeps a running
 * digest of its committed log (lib/storage/replica-digest.ts: SHA-256 chained in sequence
 * order), recomputed from the rows after start-up (beside the serving node) and extended as sequences are applied; heartbeats
 * carry it (`/health`: `digest_sequence`, `digest`). A full audit (the digest recomputed from
 * the rows, every kv row checked against the log entry that wrote it) runs after start-up, every
 * `integrity_audit_interval_ms`, and on demand (`GET /cluster/digest`, `twopc verify`).
 *
 * A replica whose audit finds a problem, or whose digest a majority of the membership
 * contradicts at the same sequence (lib/cluster/digest-vote.ts), is repaired: it stops
 * serving, forgets its kv rows and committed log in one transaction, and catches up the whole
 * log again from the master (or the most advanced serving peer), like a new node.
 */
import { judgeDigest, type DigestComparison } from '../cluster/digest-vote.ts';
import type { DigestMark, ReplicaAudit } from '../storage/replica-digest.ts';
import type { NodeContext } from './context.ts';

/** Marks (sequence → digest) kept to compare with peers' reports at their sequence. */
export const digest_marks_kept = 1024;
/**
 * The running digest's mark at every one of the newest sequences it was extended over, kept
 * so that a peer's report, which names its own applied prefix, is compared without reading
 * the rows between the nearest kept mark and that sequence again (once 40 % of the digest's
 * work under load: each row was read, parsed and hashed again for each peer).
 */
export const digest_recent_marks_kept = 1024;
/** Rows an audit reads before it lets the node answer heartbeats and requests again. */
export const audit_rows_per_step = 1_000;
/** Most problems an audit lists. */
export const audit_problems_max = 5;
/**
 * Share of one core an audit in the background (after start-up, and every
 * `integrity_audit_interval_ms`) may take: after a step that took d ms it rests
 * d × (1 − share) ÷ share ms. Unpaced, an audit of a 2-million-transaction store took a full
 * core for about 24 s at every start and every 5 minutes, and a node restarting beside two
 * peers that had just started (the bench's restart) got a third of the machine. An audit
 * asked for (`GET /cluster/digest`, `twopc verify`) runs at full speed: someone waits for it.
 */
export const audit_cpu_share = 0.25;

/** An audit in the background keeps to `audit_cpu_share`; one someone waits for does not. */
export type AuditPace = 'paced' | 'full-speed';

/** How long a paced audit rests after a step of `step_ms`, so that it takes `audit_cpu_share` of a core. */
export function restAfterStep(step_ms: number): number {
  return Math.max(0, Math.round((step_ms * (1 - audit_cpu_share)) / audit_cpu_share));
}

/** What `GET /cluster/digest` answers. */
export interface DigestAnswer {
  readonly addr: string;
  readonly sequence: number;
  readonly digest: string;
  readonly last_sequence: number;
  readonly problems: readonly string[];
  /** True when this answer started a repair. */
  readonly repairing: boolean;
}

export class ReplicaIntegrity {
  private mark: DigestMark | undefined;
  private readonly marks = new Map<number, string>();
  /** Every sequence's digest, the newest `digest_recent_marks_kept` of the running digest, ascending. */
  private readonly recent_marks = new Map<number, string>();
  /** Bumped by every wipe: an audit that saw one midway is void. */
  private generation = 0;

  constructor(
    private readonly context: NodeContext,
    /** Stop serving, forget the replica and pull a clean copy (TwopcNode.repair). */
    private readonly repair: (reason: string) => Promise<void>,
  ) {}

  /** After start-up: audit the store beside the serving node; a replica that contradicts itself is repaired. */
  async start(): Promise<void> {
    const audit = await this.runAudit(this.context.sequences.applied_through, 'paced');
    if (audit === undefined) return;
    this.remember(audit);
    if (audit.problems.length > 0) await this.repair(`the store contradicts itself: ${audit.problems.join('; ')}`);
  }

  /** The running digest, extended to the applied prefix; undefined while it cannot be (a gap). */
  current(): DigestMark | undefined {
    const through = this.context.sequences.applied_through;
    const mark = this.mark;
    if (mark === undefined || mark.sequence > through) return undefined;
    if (mark.sequence === through) return mark;
    try {
      const next = this.context.participant_log.digestThrough(mark, through, (each) => this.recent_marks.set(each.sequence, each.digest));
      this.trimRecentMarks();
      this.remember(next);
      return next;
    } catch (error) {
      this.context.log.warn('digest-not-extended', { from: mark.sequence, through, error: String(error) });
      return undefined;
    }
  }

  /** The digest at `sequence` from the nearest kept mark below it; undefined when none is kept. */
  digestAt(sequence: number): string | undefined {
    const current = this.current();
    if (current === undefined || sequence > current.sequence) return undefined;
    const kept = this.recent_marks.get(sequence) ?? this.marks.get(sequence);
    if (kept !== undefined) return kept;
    let floor: DigestMark | undefined;
    for (const [at, digest] of this.marks) if (at < sequence && (floor === undefined || at > floor.sequence)) floor = { sequence: at, digest };
    if (floor === undefined) return undefined;
    try {
      return this.context.participant_log.digestThrough(floor, sequence).digest;
    } catch {
      return undefined;
    }
  }

  /** Compare with what the peers' last heartbeats said; repair if a majority of the membership is against this replica. */
  async compareWithPeers(): Promise<void> {
    const { state } = this.context;
    if (state.phase !== 'serving') return;
    const comparisons: DigestComparison[] = [];
    for (const peer of state.peers.values()) {
      const report = peer.last_report;
      if (!peer.reachable || report?.digest === undefined || report.digest_sequence === undefined) continue;
      const own = this.digestAt(report.digest_sequence);
      if (own !== undefined) comparisons.push({ peer: peer.addr, sequence: report.digest_sequence, peer_digest: report.digest, own_digest: own });
    }
    const verdict = judgeDigest(comparisons, state.members.length);
    if (verdict.kind === 'outvoted') await this.repair(`digest differs from ${verdict.against.join(', ')} at sequence ${verdict.sequence}`);
  }

  /**
   * A full audit through `sequence` (default: the applied prefix). Problems, or a recomputed
   * digest that differs from the running one (a row changed after it was applied), start a
   * repair; the answer carries the recomputed digest.
   */
  async verify(sequence = this.context.sequences.applied_through, pace: AuditPace = 'full-speed'): Promise<DigestAnswer | undefined> {
    const audit = await this.runAudit(sequence, pace);
    if (audit === undefined) return undefined;
    const running = this.digestAt(sequence);
    const problems = running !== undefined && running !== audit.digest && audit.problems.length === 0 ? [`the log at or below sequence ${sequence} changed after it was applied`] : audit.problems;
    const repairing = problems.length > 0 && this.context.state.phase === 'serving';
    if (repairing) void this.repair(`audit: ${problems.join('; ')}`).catch((error: unknown) => this.context.log.warn('repair-failed', { error: String(error) }));
    return { addr: this.context.addr, sequence: audit.sequence, digest: audit.digest, last_sequence: this.context.sequences.applied_through, problems, repairing };
  }

  /** The periodic audit: the same as `verify`, logged. */
  async audit(): Promise<void> {
    if (this.context.state.phase !== 'serving') return;
    const answer = await this.verify(this.context.sequences.applied_through, 'paced');
    if (answer !== undefined && answer.problems.length > 0) this.context.log.warn('audit-failed', { problems: answer.problems });
  }

  /** Forget every mark: the replica was wiped. */
  forget(): void {
    this.generation += 1;
    this.marks.clear();
    this.recent_marks.clear();
    this.mark = { sequence: 0, digest: this.context.participant_log.digestThrough(undefined, 0).digest };
  }

  /**
   * Recompute the digest through `through` from the rows and check every kv row against the
   * log, `audit_rows_per_step` rows at a time, letting heartbeats and requests run between
   * steps (a large store read in one go would look like a paused node). Undefined when the
   * replica was wiped meanwhile.
   */
  private async runAudit(through: number, pace: AuditPace): Promise<ReplicaAudit | undefined> {
    const { participant_log, timers, clock } = this.context;
    const generation = this.generation;
    const problems: string[] = [];
    let step_started_ms = clock.monotonic_ms();
    /** Lets heartbeats and requests run between steps; a paced audit rests in proportion to the step. */
    const rest = async () => {
      const step_ms = clock.monotonic_ms() - step_started_ms;
      await timers.sleep(pace === 'paced' ? restAfterStep(step_ms) : 0);
      step_started_ms = clock.monotonic_ms();
    };
    let mark = participant_log.digestThrough(undefined, 0);
    try {
      while (mark.sequence < through) {
        mark = participant_log.digestThrough(mark, Math.min(through, mark.sequence + audit_rows_per_step));
        await rest();
        if (generation !== this.generation) return undefined;
      }
    } catch (error) {
      if (generation !== this.generation) return undefined;
      problems.push(error instanceof Error ? error.message : String(error));
    }
    let after: string | undefined;
    do {
      const page = participant_log.checkKv(after, audit_rows_per_step);
      problems.push(...page.problems);
      after = page.next;
      await rest();
      if (generation !== this.generation) return undefined;
    } while (after !== undefined && problems.length < audit_problems_max);
    return { ...mark, problems: problems.slice(0, audit_problems_max) };
  }

  private trimRecentMarks(): void {
    for (const sequence of this.recent_marks.keys()) {
      if (this.recent_marks.size <= digest_recent_marks_kept) break;
      this.recent_marks.delete(sequence);
    }
  }

  private remember(mark: ReplicaAudit | DigestMark): void {
    this.mark = { sequence: mark.sequence, digest: mark.digest };
    this.marks.set(mark.sequence, mark.digest);
    while (this.marks.size > digest_marks_kept) {
      const oldest = this.marks.keys().next().value;
      if (oldest === undefined) break;
      this.marks.delete(oldest);
    }
  }
}

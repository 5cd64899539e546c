/**
 * The chaos checker: given what the clients attempted and learned, and a dump of every
 * replica after quiescence, count each kind of anomaly. Pure: the same data always gives the
 * same verdict, so it is tested on hand-made dumps as well as on real runs.
 */
import type { MasterClaim } from './observer.ts';
import type { ReplicaDump } from './replica-dump.ts';
import type { Attempt } from './workload.ts';

export const anomaly_kinds = ['lost', 'phantom', 'partial', 'divergent', 'wrong_value', 'split_brain', 'stuck', 'aborted_applied'] as const;
export type AnomalyKind = (typeof anomaly_kinds)[number];
/** Missing sequences named in one finding. */
const missing_listed_max = 10;

export type AnomalyCounts = Readonly<Record<AnomalyKind, number>>;

export interface CheckInput {
  readonly attempts: readonly Pick<Attempt, 'transaction_id' | 'payload' | 'outcome'>[];
  readonly replicas: readonly ReplicaDump[];
  /** Mastership claims seen while the run went on (`/role`), besides the replicas' terms. */
  readonly claims: readonly MasterClaim[];
}

export interface Finding {
  readonly kind: AnomalyKind;
  readonly detail: string;
}

export interface Verdict {
  readonly anomalies: AnomalyCounts;
  readonly total: number;
  readonly findings: readonly Finding[];
}

export function zeroCounts(): Record<AnomalyKind, number> {
  return Object.fromEntries(anomaly_kinds.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;
}

export function addCounts(into: Record<AnomalyKind, number>, more: AnomalyCounts): void {
  for (const kind of anomaly_kinds) into[kind] += more[kind];
}

export function check(input: CheckInput): Verdict {
  const findings: Finding[] = [
    ...findLost(input),
    ...findPhantoms(input),
    ...findPartial(input),
    ...findDivergent(input.replicas),
    ...findWrongValues(input),
    ...findSplitBrain(input),
    ...findStuck(input.replicas),
    ...findAbortedApplied(input),
  ];
  const anomalies = zeroCounts();
  for (const finding of findings) anomalies[finding.kind] += 1;
  return { anomalies, total: findings.length, findings };
}

/** Committed on this replica: its view says so, or its committed log holds it. */
function committedOn(replica: ReplicaDump, id: string): boolean {
  return replica.transactions[id]?.state === 'COMMITTED' || replica.log.some((entry) => entry.transaction_id === id);
}

function logIds(replica: ReplicaDump): Set<string> {
  return new Set(replica.log.map((entry) => entry.transaction_id));
}

function committedSets(replicas: readonly ReplicaDump[]): Map<string, Set<string>> {
  const sets = new Map<string, Set<string>>();
  for (const replica of replicas) {
    const ids = logIds(replica);
    for (const [id, view] of Object.entries(replica.transactions)) if (view.state === 'COMMITTED') ids.add(id);
    sets.set(replica.addr, ids);
  }
  return sets;
}

function findLost({ attempts, replicas }: CheckInput): Finding[] {
  const committed = committedSets(replicas);
  return attempts
    .filter((attempt) => attempt.outcome === 'committed')
    .flatMap((attempt) => {
      const missing = replicas.filter((replica) => !committed.get(replica.addr)?.has(attempt.transaction_id));
      return missing.length === 0 ? [] : [{ kind: 'lost' as const, detail: `${attempt.transaction_id} acknowledged but not committed on ${missing.map((r) => r.addr).join(', ')}` }];
    });
}

function findPhantoms({ attempts, replicas }: CheckInput): Finding[] {
  const written = new Map<string, Set<string>>();
  for (const attempt of attempts) {
    for (const [key, value] of Object.entries(attempt.payload)) {
      const values = written.get(key) ?? new Set<string>();
      values.add(JSON.stringify(value));
      written.set(key, values);
    }
  }
  return replicas.flatMap((replica) =>
    (replica.kv ?? [])
      .filter((item) => !written.get(item.key)?.has(JSON.stringify(item.value)))
      .map((item) => ({ kind: 'phantom' as const, detail: `${replica.addr} holds ${item.key}=${JSON.stringify(item.value)} that no client wrote` })),
  );
}

function findPartial({ attempts, replicas }: CheckInput): Finding[] {
  const committed = committedSets(replicas);
  const ids = new Set([...attempts.map((attempt) => attempt.transaction_id), ...[...committed.values()].flatMap((set) => [...set])]);
  return [...ids].flatMap((id) => {
    const on = replicas.filter((replica) => committed.get(replica.addr)?.has(id)).map((replica) => replica.addr);
    return on.length > 0 && on.length < replicas.length ? [{ kind: 'partial' as const, detail: `${id} committed on ${on.join(', ')} only` }] : [];
  });
}

function kvText(replica: ReplicaDump): string | undefined {
  return replica.kv && JSON.stringify(replica.kv.map((item) => [item.key, item.value, item.sequence]));
}

function logText(replica: ReplicaDump): string {
  return JSON.stringify(replica.log.map((entry) => [entry.transaction_id, entry.sequence, entry.payload]));
}

function findDivergent(replicas: readonly ReplicaDump[]): Finding[] {
  const findings: Finding[] = [];
  const [reference, ...others] = replicas;
  if (reference === undefined) return findings;
  for (const other of others) {
    const [mine, theirs] = [kvText(other), kvText(reference)];
    if (mine !== undefined && theirs !== undefined && mine !== theirs) findings.push({ kind: 'divergent', detail: `${other.addr} data differs from ${reference.addr}` });
    if (logText(other) !== logText(reference)) findings.push({ kind: 'divergent', detail: `${other.addr} committed log differs from ${reference.addr}` });
    if (other.last_sequence !== reference.last_sequence) findings.push({ kind: 'divergent', detail: `${other.addr} at sequence ${other.last_sequence}, ${reference.addr} at ${reference.last_sequence}` });
  }
  for (const replica of replicas) findings.push(...findLogGaps(replica));
  return findings;
}

/** A log must hold sequences 1..n in order, one transaction each, ending at the last sequence. */
function findLogGaps(replica: ReplicaDump): Finding[] {
  const findings: Finding[] = [];
  const sequences = replica.log.map((entry) => entry.sequence);
  const present = new Set(sequences);
  const highest = Math.max(0, ...sequences);
  const missing: number[] = [];
  for (let sequence = 1; sequence <= highest && missing.length <= missing_listed_max; sequence += 1) if (!present.has(sequence)) missing.push(sequence);
  if (missing.length > 0) {
    const holders = Object.entries(replica.transactions).filter(([, view]) => view.sequence !== undefined && missing.includes(view.sequence));
    const named = holders.map(([id, view]) => `${id} ${view.state}@${view.sequence}`).join(', ');
    findings.push({ kind: 'divergent', detail: `${replica.addr} log lacks sequence ${missing.slice(0, missing_listed_max).join(', ')} (of 1..${highest})${named === '' ? '' : `; its views: ${named}`}` });
  }
  const reused = sequences.filter((sequence, index) => sequences.indexOf(sequence) !== index);
  for (const sequence of new Set(reused)) findings.push({ kind: 'divergent', detail: `${replica.addr} log holds sequence ${sequence} more than once` });
  const ids = replica.log.map((entry) => entry.transaction_id);
  const twice = ids.filter((id, index) => ids.indexOf(id) !== index);
  for (const id of new Set(twice)) findings.push({ kind: 'divergent', detail: `${replica.addr} log holds ${id} more than once` });
  if (replica.last_sequence !== highest) findings.push({ kind: 'divergent', detail: `${replica.addr} reports last sequence ${replica.last_sequence}, its log ends at ${highest}` });
  return findings;
}

/**
 * Every key's value must be the one the highest-sequence committed transaction touching it
 * wrote (null deleted it), and every logged payload must be what its client sent.
 */
function findWrongValues({ attempts, replicas }: CheckInput): Finding[] {
  const sent = new Map(attempts.map((attempt) => [attempt.transaction_id, JSON.stringify(attempt.payload)]));
  const findings: Finding[] = [];
  for (const replica of replicas) {
    const expected = new Map<string, { value: unknown; sequence: number }>();
    for (const entry of [...replica.log].sort((a, b) => a.sequence - b.sequence)) {
      const original = sent.get(entry.transaction_id);
      if (original !== undefined && original !== JSON.stringify(entry.payload)) {
        findings.push({ kind: 'wrong_value', detail: `${replica.addr} logged ${entry.transaction_id} with payload ${JSON.stringify(entry.payload)}, the client sent ${original}` });
      }
      for (const [key, value] of Object.entries(entry.payload)) {
        if (value === null) expected.delete(key);
        else expected.set(key, { value, sequence: entry.sequence });
      }
    }
    if (replica.kv === undefined) continue;
    const actual = new Map(replica.kv.map((item) => [item.key, item]));
    for (const key of new Set([...expected.keys(), ...actual.keys()])) {
      const want = expected.get(key);
      const have = actual.get(key);
      if (JSON.stringify(want?.value) !== JSON.stringify(have?.value) || want?.sequence !== have?.sequence) {
        findings.push({ kind: 'wrong_value', detail: `${replica.addr} ${key}=${JSON.stringify(have?.value)}@${have?.sequence ?? '-'}, the log says ${JSON.stringify(want?.value)}@${want?.sequence ?? '-'}` });
      }
    }
  }
  return findings;
}

function findSplitBrain({ replicas, claims }: CheckInput): Finding[] {
  const masters = new Map<number, Set<string>>();
  const note = (epoch: number, master: string) => masters.set(epoch, (masters.get(epoch) ?? new Set()).add(master));
  for (const claim of claims) note(claim.epoch, claim.master);
  for (const replica of replicas) for (const term of replica.terms ?? []) note(term.epoch, term.master);
  return [...masters]
    .filter(([, names]) => names.size > 1)
    .map(([epoch, names]) => ({ kind: 'split_brain' as const, detail: `epoch ${epoch} had masters ${[...names].join(', ')}` }));
}

function findStuck(replicas: readonly ReplicaDump[]): Finding[] {
  return replicas.flatMap((replica) =>
    Object.entries(replica.transactions)
      .filter(([, view]) => view.state === 'PREPARED')
      .map(([id]) => ({ kind: 'stuck' as const, detail: `${id} still PREPARED on ${replica.addr}` })),
  );
}

function findAbortedApplied({ attempts, replicas }: CheckInput): Finding[] {
  return attempts
    .filter((attempt) => attempt.outcome === 'aborted')
    .flatMap((attempt) => {
      const on = replicas.filter((replica) => committedOn(replica, attempt.transaction_id));
      return on.length === 0 ? [] : [{ kind: 'aborted_applied' as const, detail: `${attempt.transaction_id} answered 409 but COMMITTED on ${on.map((r) => r.addr).join(', ')}` }];
    });
}

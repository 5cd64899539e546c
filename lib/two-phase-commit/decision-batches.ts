/**
 * Decisions owed to one participant, in messages it accepts: a `/decide-batch` carries at
 * most `batch_max_transactions` decisions (lib/protocol/messages.ts), and a replica that
 * missed more (a full disk, fsync errors for seconds) must still get every one (issue 14
 * item 1). Commits go first: a run of sequences is confirmed only once they are applied.
 */
import { inBatches } from './in-doubt-batch.ts';

/** `commits` and `aborts` in consecutive messages of at most `max` decisions each, commits first, in order. */
export function splitDecisions<C>(owed: { readonly commits: readonly C[]; readonly aborts: readonly string[] }, max: number): { commits: C[]; aborts: string[] }[] {
  const items = [...owed.commits.map((commit) => ({ commit })), ...owed.aborts.map((abort) => ({ abort }))];
  return inBatches(items, max).map((batch) => ({
    commits: batch.flatMap((item) => ('commit' in item ? [item.commit] : [])),
    aborts: batch.flatMap((item) => ('abort' in item ? [item.abort] : [])),
  }));
}

/** Decisions owed to one participant: the body of its `/decide-batch` messages. */
export interface OwedDecisions {
  readonly commits: readonly { readonly transaction_id: string; readonly sequence: number }[];
  readonly aborts: readonly string[];
}

/**
 * Participants owed the very same decisions, together (in the order first met), so their
 * messages are built, and stringified, once for all of them: a stage's commits all reach the
 * same participants (run-formation.ts), so at three nodes both others usually share one.
 */
export function groupSameDecisions<O extends OwedDecisions>(owed: ReadonlyMap<string, O>): { readonly addrs: string[]; readonly owed: O }[] {
  const groups: { addrs: string[]; owed: O }[] = [];
  for (const [addr, decisions] of owed) {
    const group = groups.find((candidate) => isSameDecisions(candidate.owed, decisions));
    if (group) group.addrs.push(addr);
    else groups.push({ addrs: [addr], owed: decisions });
  }
  return groups;
}

function isSameDecisions(a: OwedDecisions, b: OwedDecisions): boolean {
  if (a.commits.length !== b.commits.length || a.aborts.length !== b.aborts.length) return false;
  for (let index = 0; index < a.commits.length; index += 1) {
    const x = a.commits[index]!;
    const y = b.commits[index]!;
    if (x.transaction_id !== y.transaction_id || x.sequence !== y.sequence) return false;
  }
  for (let index = 0; index < a.aborts.length; index += 1) if (a.aborts[index] !== b.aborts[index]) return false;
  return true;
}

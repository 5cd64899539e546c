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

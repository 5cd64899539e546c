/**
 * Does this replica's digest stand against the cluster's? Pure: the digests this node and its
 * peers hold at the same sequences come in, a verdict goes out. A replica whose digest
 * differs from enough peers that they make a majority of the membership is the odd one out:
 * it stops serving and pulls a clean copy. One peer disagreeing in a cluster of three is that
 * peer's problem, not this node's (it will find the other two against it).
 */
import { hasMajority } from './election.ts';

/** One peer's digest at a sequence, next to this node's own digest at that same sequence. */
export interface DigestComparison {
  readonly peer: string;
  readonly sequence: number;
  readonly peer_digest: string;
  readonly own_digest: string;
}

export type DigestVerdict =
  | { readonly kind: 'agrees' }
  | { readonly kind: 'outvoted'; readonly sequence: number; readonly against: readonly string[] };

export function judgeDigest(comparisons: readonly DigestComparison[], member_count: number): DigestVerdict {
  const against = comparisons.filter((comparison) => comparison.peer_digest !== comparison.own_digest);
  if (!hasMajority(against.length, member_count)) return { kind: 'agrees' };
  return { kind: 'outvoted', sequence: Math.min(...against.map((comparison) => comparison.sequence)), against: against.map((comparison) => comparison.peer).sort() };
}

/**
 * Who leads. The master is the alive node whose address is lowest by plain string
 * comparison (JavaScript `<` on `host:port` as written in the membership). Every node
 * computes this from its own view of who is alive; epochs settle disagreements: a node
 * that finds itself master claims an epoch above every epoch it has seen, and
 * participants refuse coordinator messages from older epochs.
 */

import { epoch_claim_lead_max } from '../protocol/messages.ts';

/** The lowest alive address, or undefined when nobody is alive. */
export function electMaster(alive: Iterable<string>): string | undefined {
  let lowest: string | undefined;
  for (const addr of alive) if (lowest === undefined || addr < lowest) lowest = addr;
  return lowest;
}

/** A node may act as master only while it reaches a strict majority of the membership. */
export function hasMajority(reachable_count: number, member_count: number): boolean {
  return reachable_count * 2 > member_count;
}

/** The epoch a new master claims: above every epoch it has seen. */
export function claimEpoch(seen_epochs: Iterable<number>): number {
  let highest = 0;
  for (const epoch of seen_epochs) if (epoch > highest) highest = epoch;
  return highest + 1;
}

/** A node's promise: in `epoch`, only `candidate` may lead. Persisted before it is given. */
export interface EpochGrant {
  readonly epoch: number;
  readonly candidate: string;
}

export type ClaimAnswer =
  | { readonly granted: true; readonly grant: EpochGrant }
  | { readonly granted: false; readonly reason: 'epoch already granted' | 'stale epoch' | 'not a member' | 'epoch too far ahead'; readonly epoch: number };

/**
 * Whether to grant `claim`. The candidate is still chosen deterministically (the lowest
 * alive address); this vote only makes an epoch belong to one candidate: a node grants each
 * epoch once, never below the highest epoch it has seen, so two candidates that both win a
 * majority in the same epoch would need a node that granted it twice. A candidate outside
 * this node's membership gets nothing. The same claim again gets the same grant (its answer
 * may have been lost); the node persists a grant before it answers with it. A claim more than
 * `epoch_claim_lead_max` above every epoch this node knows is refused: a real candidate
 * claims one above the highest it has seen, and a forged claim near the largest safe
 * integer would leave no epoch for any later master.
 */
export function answerClaim(current_epoch: number, granted: EpochGrant | undefined, claim: EpochGrant, members: readonly string[]): ClaimAnswer {
  if (!members.includes(claim.candidate)) return { granted: false, reason: 'not a member', epoch: current_epoch };
  if (granted !== undefined && claim.epoch === granted.epoch) {
    return claim.candidate === granted.candidate ? { granted: true, grant: granted } : { granted: false, reason: 'epoch already granted', epoch: granted.epoch };
  }
  const floor = Math.max(current_epoch, granted?.epoch ?? 0);
  if (claim.epoch < floor || (granted !== undefined && claim.epoch <= granted.epoch)) return { granted: false, reason: 'stale epoch', epoch: floor };
  if (claim.epoch > floor + epoch_claim_lead_max) return { granted: false, reason: 'epoch too far ahead', epoch: floor };
  return { granted: true, grant: claim };
}

/** What a node knows of who leads an epoch: its own term, its grant, its peers' reports. */
export interface LeadershipKnowledge {
  readonly addr: string;
  /** The epoch this node leads as master, if it does. */
  readonly term: number | undefined;
  readonly granted: EpochGrant | undefined;
  /** Peers whose last report said they lead an epoch. */
  readonly reported_masters: readonly { readonly addr: string; readonly epoch: number }[];
}

/**
 * The master of `epoch` as this node knows it, if it does: itself while it leads that term,
 * the candidate it granted the epoch to, or a peer that reported leading it. A candidate
 * grants its own claim first, so a claim that lost (another candidate's majority got the
 * epoch without this node) leaves a grant to itself behind: that grant names no master, and
 * taking it for one would refuse every message of the real master of that epoch, so every
 * write of that term would abort 'not the master' until a new epoch. Whoever won the epoch
 * won it from a majority, so a coordinator naming it is accepted as for an epoch whose
 * master this node does not know yet.
 */
export function knownMasterOf(epoch: number, here: LeadershipKnowledge): string | undefined {
  if (here.term === epoch) return here.addr;
  if (here.granted?.epoch === epoch && here.granted.candidate !== here.addr) return here.granted.candidate;
  return here.reported_masters.find((master) => master.epoch === epoch)?.addr;
}

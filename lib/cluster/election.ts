/**
 * Who leads. The master is the alive node whose address is lowest by plain string
 * comparison (JavaScript `<` on `host:port` as written in the membership). Every node
 * computes this from its own view of who is alive; epochs settle disagreements: a node
 * that finds itself master claims an epoch above every epoch it has seen, and
 * participants refuse coordinator messages from older epochs.
 */

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

/**
 * Which of the coordinator's writes to its own store must wait for an fsync: its apply of
 * decisions, and its own vote in its own round.
 *
 * The apply:
 *
 * A commit the coordinator applies is already durable on another replica that acknowledged
 * it (`mayApplyLocally`), and the coordinator's COMMIT decision and PREPARED record are on its
 * own disk. If a crash loses its unsynced apply (the OS dropped the page cache: power loss;
 * `kill -9` keeps it), the node restarts in a state the protocol already handles: decided and
 * prepared here, applied elsewhere, which catch-up, reconciliation and the in-doubt pass
 * settle as committed. So the apply only has to be visible to reads at once (the client's
 * 200 follows it), not synced: one fsync fewer between the client and its answer. SQLite's
 * WAL keeps order, so a later synced write (the next prepare) makes it durable too.
 *
 * An abort is different: the coordinator counts itself among the members that remember it
 * before a 409 (`isAbortFinal`), so an abort it applies is synced. A commit nobody else
 * applied (a cluster of one, or a decision not acknowledged anywhere yet) is synced as well.
 */
export type LocalApplySync = 'synced' | 'unsynced';

/** A commit the coordinator is about to apply: how many other replicas acknowledged applying it. */
export interface LocalCommit {
  readonly remote_acks: number;
}

/** How the coordinator writes one local batch of decisions: unsynced only if every part is durable elsewhere. */
export function chooseLocalApplySync(commits: readonly LocalCommit[], abort_count: number): LocalApplySync {
  if (abort_count > 0 || commits.length === 0) return 'synced';
  return commits.every((commit) => commit.remote_acks > 0) ? 'unsynced' : 'synced';
}

/** Where a prepare comes from: the coordinator's own round (a direct call), or a peer's message. */
export type PrepareOrigin = 'own-round' | 'peer';

/**
 * How a participant writes its PREPARED records. A peer hears READY only once they are on
 * disk (the contract's "prepared means durable"). The coordinator's own vote is heard by no
 * one: it counts it itself, and its next write for the round, the decisions (synced, before
 * any decision leaves, as the contract asks), comes after it in the same WAL, so every
 * decision on disk has this node's PREPARED record on disk beneath it. A power loss before
 * that drops a vote nobody acted on: the round was never decided, and the others' in-doubt
 * pass finds this node never prepared it (termination.ts fences and aborts). kill -9 keeps it.
 */
export function choosePrepareSync(origin: PrepareOrigin): LocalApplySync {
  return origin === 'own-round' ? 'unsynced' : 'synced';
}

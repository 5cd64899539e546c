/**
 * When a COMMIT is safely known: how many other replicas must apply each commit of a run
 * before the master may reserve the next run, and when the coordinator may apply a commit to
 * its own replica. The coordinator service counts acknowledgements and asks these rules.
 */

/**
 * Remote acknowledgements each commit of a run needs: with the master's own decision, on
 * disk before any commit was sent, a majority of the membership (`floor(members / 2) + 1`
 * nodes) then holds the commit durably, as Raft's leader counts itself. Every majority meets
 * that one, so whichever node takes over learns the commit: from a replica that applied it
 * (the take-over's floor and catch-up), or from the deposed master itself (its own unsettled
 * decisions at take-over, `findUnsettledDecision` for a peer's `max_decided`). Fewer other
 * participants than that (a shrunken membership): all of them.
 *
 * Asking every replica (n = 3: both others) let one sick disk hold every later run back
 * until it healed: a slave that had prepared a commit and then could not persist it owed the
 * acknowledgement that confirmed the run, and the sequencer reserved nothing meanwhile.
 */
export function countAcksNeeded(remote_participants: number, member_count: number): number {
  return Math.min(remote_participants, Math.floor(member_count / 2));
}

/** This acknowledgement (the `remote_acks`-th) is the one that completes the commit's quorum. */
export function completesQuorum(remote_acks: number, acks_needed: number): boolean {
  return remote_acks === acks_needed;
}

/**
 * A fresh COMMIT's client is answered 200 once the commit holds the same quorum as its run's
 * confirmation (`countAcksNeeded` other replicas applied it, and the master too), not when the
 * slowest participant answers: so the 200's "survives any crash or failover" rests on a
 * majority of the membership, which every later majority meets, as the run's gap-free rule
 * does. Three members: one other replica; five: two.
 */
export function mayAnswerCommitted(remote_acks: number, acks_needed: number): boolean {
  return remote_acks >= acks_needed;
}

/**
 * The coordinator applies a commit to its own replica last, and only once another
 * participant has applied it (or there is no other). So a commit applied on the coordinator
 * is never known to it alone: after the coordinator crashes, a commit nobody else applied
 * was applied nowhere, and can be withdrawn safely. (`countAcksNeeded` asks at least this
 * one acknowledgement whenever there is another participant, so a run is never confirmed by
 * the coordinator's decision alone.)
 */
export function mayApplyLocally(progress: { readonly remote_recipients: number; readonly remote_acks: number }): boolean {
  return progress.remote_recipients === 0 || progress.remote_acks > 0;
}

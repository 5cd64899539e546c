/**
 * When a COMMIT is safely known: how many other replicas must apply each commit of a run
 * before the master may reserve the next run, and when the coordinator may apply a commit to
 * its own replica. The coordinator service counts acknowledgements and asks these rules.
 */

/**
 * Remote acknowledgements each commit of a run needs: enough replicas that every majority
 * of the membership includes one of them (so whichever node takes over learns the commit),
 * or every other participant if fewer took part.
 */
export function countAcksNeeded(remote_participants: number, member_count: number): number {
  return Math.min(remote_participants, Math.ceil(member_count / 2));
}

/** This acknowledgement (the `remote_acks`-th) is the one that completes the commit's quorum. */
export function completesQuorum(remote_acks: number, acks_needed: number): boolean {
  return remote_acks === acks_needed;
}

/**
 * The coordinator applies a commit to its own replica last, and only once another
 * participant has applied it (or there is no other). So a commit applied on the coordinator
 * is never known to it alone: after the coordinator crashes, a commit nobody else applied
 * was applied nowhere, and can be withdrawn safely.
 */
export function mayApplyLocally(progress: { readonly remote_recipients: number; readonly remote_acks: number }): boolean {
  return progress.remote_recipients === 0 || progress.remote_acks > 0;
}

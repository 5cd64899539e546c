/**
 * When a prepare may take a key another prepared transaction holds (a pure rule).
 *
 * Every write is blind (a payload sets keys; nothing is read), and every replica applies a
 * key's writes last-writer-wins by sequence (`put_kv` in lib/storage/participant-log.ts), so
 * the order the commits arrive in does not matter: the highest sequence wins everywhere.
 * Two transactions of one master's term touching one key therefore never conflict in
 * meaning: that master gives each its sequence when it decides, and the key ends up as
 * if they were applied in sequence order. Such a prepare shares the key.
 *
 * A key held by a transaction another round prepared (another coordinator, or another
 * epoch of the same one: an old master's in-doubt round), or by a round that names no
 * coordinator or epoch, is a conflict: the prepare votes ABORT `conflict` at once, as the
 * contract says. Nobody waits for a lock.
 */

/** The round (coordinator and epoch) that prepared a transaction holding keys. */
export interface LockHolder {
  readonly transaction_id: string;
  readonly coordinator?: string | undefined;
  readonly epoch?: number | undefined;
}

/** The round a prepare comes from. */
export interface PrepareRound {
  readonly coordinator?: string | undefined;
  readonly epoch?: number | undefined;
}

/** Whether a prepare of `round` may take a key `holder` holds: one master's term, both named. */
export function mayShareKey(round: PrepareRound, holder: LockHolder): boolean {
  if (round.coordinator === undefined || round.epoch === undefined) return false;
  return holder.coordinator === round.coordinator && holder.epoch === round.epoch;
}

/**
 * The first of `keys` a prepare of `transaction_id` in `round` may not take (held by a
 * transaction of another round), or undefined when it may take them all. The transaction's
 * own hold (a duplicate prepare) is no conflict.
 */
export function findConflict(round: PrepareRound, transaction_id: string, keys: readonly string[], holdersOf: (key: string) => readonly LockHolder[]): string | undefined {
  return keys.find((key) => holdersOf(key).some((holder) => holder.transaction_id !== transaction_id && !mayShareKey(round, holder)));
}

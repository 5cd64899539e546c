/**
 * Read-your-writes on any node: `GET /kv/:key?min_sequence=S` (and `/kv?…&min_sequence=S`)
 * waits until this node has applied every sequence through S, at most
 * `min_sequence_wait_ms`, then answers 503 if it still has not.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as v from 'valibot';
import type { TwopcNode } from '../node/node.ts';

/** Longest a read waits for its `min_sequence`. */
export const min_sequence_wait_ms = 2_000;
/** How often a waiting read looks again. */
export const min_sequence_poll_interval_ms = 5;

export const MinSequenceQuerySchema = v.object({
  min_sequence: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'min_sequence must be a sequence number'), v.transform(Number))),
});

/**
 * Resolves once `node` has applied through `min_sequence` (undefined: at once); else, after
 * the wait, to the reason for the 503.
 */
export async function awaitApplied(node: TwopcNode, min_sequence: number | undefined): Promise<string | undefined> {
  if (min_sequence === undefined) return undefined;
  const { sequences, clock } = node.context;
  const deadline = clock.monotonic_ms() + min_sequence_wait_ms;
  while (sequences.applied_through < min_sequence) {
    if (clock.monotonic_ms() >= deadline || node.context.state.phase === 'stopping') {
      return `sequence ${min_sequence} not applied on ${node.addr} within ${min_sequence_wait_ms} ms (applied through ${sequences.applied_through}); read from the master or retry`;
    }
    await sleep(min_sequence_poll_interval_ms);
  }
  return undefined;
}

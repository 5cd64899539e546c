/**
 * How a node may answer a read now (issue 14 item 15). A read on the master must see every
 * write acknowledged before it: a node named master serves reads as current only once its
 * take-over is complete (everything the previous epoch acknowledged is applied here, the
 * moment it starts accepting writes). Until then it waits, bounded, and past that answers as
 * a node that is catching up does: the read marked stale. A node not serving (catching up,
 * cut off from the majority) marks its reads stale; a stopping one refuses them.
 */
import type { NodePhase, Role } from '../protocol/states.ts';

export type ReadStanding = 'current' | 'taking-over' | 'stale' | 'stopping';

export interface ReadView {
  readonly phase: NodePhase;
  readonly role: Role;
  readonly accepting_writes: boolean;
}

export function judgeRead(view: ReadView): ReadStanding {
  if (view.phase === 'stopping') return 'stopping';
  if (view.phase !== 'serving') return 'stale';
  if (view.role === 'MASTER' && !view.accepting_writes) return 'taking-over';
  return 'current';
}

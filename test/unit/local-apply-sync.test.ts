/** When the coordinator's own apply may skip its fsync (lib/two-phase-commit/local-apply-sync.ts), table-driven. */
import test from 'ava';
import { chooseLocalApplySync, choosePrepareSync, type LocalApplySync } from '../../lib/two-phase-commit/local-apply-sync.ts';

const table: readonly [case_name: string, remote_acks_per_commit: readonly number[], aborts: number, sync: LocalApplySync][] = [
  ['one commit another replica applied', [1], 0, 'unsynced'],
  ['commits each applied on two other replicas', [2, 2, 2], 0, 'unsynced'],
  ['commits applied elsewhere at different counts', [1, 2], 0, 'unsynced'],
  ['a commit nobody else applied (a cluster of one)', [0], 0, 'synced'],
  ['one commit of the batch not applied elsewhere yet', [1, 0], 0, 'synced'],
  ['an abort alone: the coordinator counts itself among those that remember it', [], 1, 'synced'],
  ['commits applied elsewhere with an abort beside them', [1, 1], 1, 'synced'],
  ['nothing to write', [], 0, 'synced'],
];

test('the coordinator skips the fsync of its own apply only when every commit in it is durable on another replica and it carries no abort', (t) => {
  for (const [name, acks, aborts, sync] of table) {
    t.is(chooseLocalApplySync(acks.map((remote_acks) => ({ remote_acks })), aborts), sync, name);
  }
});

test("a participant syncs a peer's prepare before READY; the coordinator's own vote rides on its decisions' fsync", (t) => {
  t.is(choosePrepareSync('peer'), 'synced');
  t.is(choosePrepareSync('own-round'), 'unsynced');
});

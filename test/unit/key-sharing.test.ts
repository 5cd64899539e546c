/**
 * Which prepares share a key and which conflict (lib/two-phase-commit/key-sharing.ts), by
 * script (test/unit/testdata/blind-writes-share-keys.txt, etcd raft's datadriven style):
 * the script drives the real stepPrepare over the real LockTable.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { readTitle, runScript, type Command } from './datadriven.ts';
import { stepPrepare, type ParticipantView } from '../../lib/two-phase-commit/participant.ts';
import { LockTable } from '../../lib/node/lock-table.ts';
import type { PrepareRequest } from '../../lib/protocol/messages.ts';

/** `n1@3` is coordinator n1 in epoch 3; `-@3` names no coordinator. */
function parseRound(text: string): { coordinator?: string; epoch: number } {
  const [coordinator, epoch] = text.split('@');
  return { ...(coordinator !== '-' && { coordinator }), epoch: Number(epoch) };
}

function createHandler(): (command: Command) => string {
  const locks = new LockTable();
  const view: ParticipantView = { epoch: 3, phase: 'serving', state: undefined, lockHolders: (key) => locks.holdersOf(key), isMember: () => true };
  const prepared = new Set<string>();
  return (command) => {
    const id = command.positional[0] ?? '';
    switch (command.name) {
      case 'prepare': {
        const round = parseRound(command.args.get('by') ?? '');
        const keys = (command.args.get('keys') ?? '').split(',');
        const request: PrepareRequest = { transaction_id: id, payload: Object.fromEntries(keys.map((key) => [key, id])), ...round };
        const step = stepPrepare({ ...view, ...(prepared.has(id) && { state: 'PREPARED', payload_matches: true }) }, request);
        if (step.kind === 'answer') return step.response.status === 'READY' ? 'READY' : `ABORT ${step.response.reason} on ${String(step.response.key)}`;
        locks.acquire({ transaction_id: id, ...round }, step.keys);
        prepared.add(id);
        return 'READY';
      }
      case 'release':
        locks.release(id);
        prepared.delete(id);
        return `released ${id}`;
      case 'holders':
        return locks.holdersOf(id).map((holder) => `${holder.transaction_id} (${holder.coordinator ?? '-'}@${holder.epoch})`).join(', ') || 'none';
      default:
        throw new Error(`line ${command.line}: unknown command ${command.name}`);
    }
  };
}

const path = fileURLToPath(new URL('testdata/blind-writes-share-keys.txt', import.meta.url));
test(readTitle(path), (t) => runScript(t, path, createHandler()));

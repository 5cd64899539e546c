/**
 * Which waiting rounds share the next run of sequences, in what order
 * (lib/two-phase-commit/run-formation.ts), by script (test/unit/testdata/run-formation.txt,
 * etcd raft's datadriven style): rounds arrive at the gate, time out, and the gate opens.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { formRun, type WaitingRound } from '../../lib/two-phase-commit/run-formation.ts';
import { readTitle, runScript, type Command } from './datadriven.ts';

function span(first: number, count: number): string {
  return count === 1 ? `${first}` : `${first}..${first + count - 1}`;
}

function createHandler(): (command: Command) => string {
  let waiting: (WaitingRound & { readonly writes: readonly string[] })[] = [];
  const numberArg = (command: Command, name: string) => {
    const value = Number(command.args.get(name));
    if (!Number.isSafeInteger(value)) throw new Error(`line ${command.line}: ${name}= must be a whole number`);
    return value;
  };
  const listWaiting = () => `waiting: ${waiting.map(({ round }) => round).join(' ') || 'none'}`;
  return (command) => {
    switch (command.name) {
      case 'wait': {
        const writes = (command.args.get('writes') ?? '').split(',').filter((key) => key !== '');
        const participants = (command.args.get('participants') ?? 'n1,n2,n3').split(',');
        waiting.push({ round: numberArg(command, 'round'), epoch: numberArg(command, 'epoch'), commits: writes.length, writes, participants });
        return listWaiting();
      }
      case 'timeout': {
        const round = numberArg(command, 'round');
        waiting = waiting.filter((entry) => entry.round !== round);
        return listWaiting();
      }
      case 'open': {
        const leading = command.args.get('leading');
        const first = numberArg(command, 'first');
        const plan = formRun(waiting, leading === 'none' ? undefined : Number(leading));
        const lines = [
          plan.count === 0 ? 'run: none' : `run ${span(first, plan.count)} (${plan.count}): ${plan.parts.map((part) => `round ${part.round} takes ${span(first + part.offset, part.count)}`).join(', ')}`,
          `refused: ${plan.refused.join(' ') || 'none'}`,
          `waits for the next run: ${plan.deferred.join(' ') || 'none'}`,
        ];
        // Every replica keeps a key's highest-sequence write: which round's is it?
        const writers = new Map<string, { round: number; sequence: number }[]>();
        for (const part of plan.parts) {
          const round = waiting.find((entry) => entry.round === part.round)!;
          round.writes.forEach((key, index) => writers.set(key, [...(writers.get(key) ?? []), { round: part.round, sequence: first + part.offset + index }]));
        }
        for (const [key, writes] of [...writers].sort(([a], [b]) => a.localeCompare(b))) {
          if (writes.length < 2) continue;
          const last = writes.reduce((a, b) => (b.sequence > a.sequence ? b : a));
          lines.push(`${key}: round ${last.round}'s write (sequence ${last.sequence})`);
        }
        waiting = waiting.filter((entry) => plan.deferred.includes(entry.round));
        return lines.join('\n');
      }
      default:
        throw new Error(`line ${command.line}: unknown command ${command.name}`);
    }
  };
}

const path = fileURLToPath(new URL('testdata/run-formation.txt', import.meta.url));
test(readTitle(path), (t) => runScript(t, path, createHandler()));

test('a run is gap-free: its parts tile 0..count-1 in round order, every waiting round is in exactly one of parts, refused and deferred, and no deferred round is below a part', (t) => {
  const all = ['n1', 'n2', 'n3'];
  const waiting: WaitingRound[] = [
    { round: 9, epoch: 2, commits: 3, participants: all },
    { round: 4, epoch: 2, commits: 1, participants: all },
    { round: 6, epoch: 1, commits: 2, participants: ['n1', 'n2'] },
    { round: 5, epoch: 2, commits: 256, participants: ['n3', 'n2', 'n1'] },
    { round: 7, epoch: 2, commits: 1, participants: ['n1', 'n3'] },
  ];
  for (const leading of [1, 2, 3, undefined]) {
    const plan = formRun(waiting, leading);
    let next = 0;
    for (const part of plan.parts) {
      t.is(part.offset, next);
      next += part.count;
    }
    t.is(next, plan.count);
    t.deepEqual(plan.parts.map((part) => part.round), [...plan.parts.map((part) => part.round)].sort((a, b) => a - b));
    t.deepEqual([...plan.parts.map((part) => part.round), ...plan.refused, ...plan.deferred].sort((a, b) => a - b), [4, 5, 6, 7, 9]);
    for (const round of plan.deferred) t.true(plan.parts.every((part) => part.round < round), `deferred round ${round} comes after every part`);
  }
});

/**
 * How a node may answer a read (lib/cluster/read-standing.ts, issue 14 item 15): a master
 * serves reads as current only once its take-over is complete.
 */
import test from 'ava';
import { judgeRead, type ReadStanding, type ReadView } from '../../lib/cluster/read-standing.ts';

const table: readonly { readonly view: ReadView; readonly want: ReadStanding }[] = [
  { view: { phase: 'serving', role: 'MASTER', accepting_writes: true }, want: 'current' },
  { view: { phase: 'serving', role: 'MASTER', accepting_writes: false }, want: 'taking-over' },
  { view: { phase: 'serving', role: 'SLAVE', accepting_writes: false }, want: 'current' },
  { view: { phase: 'catching-up', role: 'SLAVE', accepting_writes: false }, want: 'stale' },
  { view: { phase: 'catching-up', role: 'MASTER', accepting_writes: false }, want: 'stale' },
  { view: { phase: 'starting', role: 'SLAVE', accepting_writes: false }, want: 'stale' },
  { view: { phase: 'stopping', role: 'MASTER', accepting_writes: true }, want: 'stopping' },
];

for (const { view, want } of table) {
  test(`a ${view.phase} ${view.role}${view.accepting_writes ? ' accepting writes' : ''} reads as ${want}`, (t) => {
    t.is(judgeRead(view), want);
  });
}

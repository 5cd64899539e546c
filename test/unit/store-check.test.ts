/**
 * The start-up check's second half over a real SQLite file (lib/storage/store-check.ts):
 * every kv row was written by a COMMITTED transaction at its sequence, none above the log's
 * last; the same verdicts whether the committed log is contiguous (one scan of kv) or has a
 * gap (a join into the log). The first half, SQLite's quick_check, is tested on a damaged
 * file by integration/store-integrity.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Sqlite } from '../../lib/storage/database.ts';
import { checkTables, judgeStore } from '../../lib/storage/store-check.ts';

type Row = readonly [state: 'COMMITTED' | 'ABORTED' | 'PREPARED', sequence: number | null];

async function withStore(t: { teardown(fn: () => unknown): void }, log: readonly Row[], kv: readonly (readonly [key: string, sequence: number])[]): Promise<Sqlite> {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-store-check-'));
  const database = await openDatabase(dir);
  t.teardown(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const put_tx = database.sqlite.prepare(`insert into transactions (id, state, payload, sequence, coordinator, epoch, participants, updated_at) values (?, ?, '{}', ?, 'a', 1, null, 1)`);
  log.forEach(([state, sequence], index) => put_tx.run(`t${index}`, state, sequence));
  const put_kv = database.sqlite.prepare(`insert into kv (key, value, sequence) values (?, '1', ?)`);
  for (const [key, sequence] of kv) put_kv.run(key, sequence);
  return database.sqlite;
}

const contiguous: readonly Row[] = [['COMMITTED', 1], ['COMMITTED', 2], ['COMMITTED', 3], ['ABORTED', null], ['PREPARED', null]];
const gapped: readonly Row[] = [['COMMITTED', 1], ['COMMITTED', 3], ['ABORTED', 2]];
const above = (key: string, sequence: number, last: number) => `kv row "${key}" is at sequence ${sequence}, above the log's last ${last}`;
const unheld = (key: string, sequence: number) => `kv row "${key}" is at sequence ${sequence}, which no committed transaction holds`;

const cases: readonly { readonly name: string; readonly log: readonly Row[]; readonly kv: readonly (readonly [string, number])[]; readonly problems: readonly string[] }[] = [
  { name: 'contiguous log, every kv row held', log: contiguous, kv: [['a', 1], ['b', 3]], problems: [] },
  { name: 'contiguous log, a kv row above the last', log: contiguous, kv: [['a', 1], ['b', 4]], problems: [above('b', 4, 3)] },
  { name: 'contiguous log, a kv row below the first', log: contiguous, kv: [['a', 0]], problems: [unheld('a', 0)] },
  { name: 'log starting above 1 (a repaired replica), a kv row below its first', log: [['COMMITTED', 5], ['COMMITTED', 6]], kv: [['a', 6], ['b', 4]], problems: [unheld('b', 4)] },
  { name: 'no committed transaction, any kv row is above the last', log: [['PREPARED', null]], kv: [['a', 1]], problems: [above('a', 1, 0)] },
  { name: 'log with a gap, every kv row held', log: gapped, kv: [['a', 1], ['b', 3]], problems: [] },
  { name: 'log with a gap, a kv row at the aborted sequence', log: gapped, kv: [['a', 2]], problems: [unheld('a', 2)] },
  { name: 'log with a gap, a kv row above the last', log: gapped, kv: [['a', 9]], problems: [above('a', 9, 3)] },
];

for (const { name, log, kv, problems } of cases) {
  test(`kv against the log: ${name}`, async (t) => {
    t.deepEqual(checkTables(await withStore(t, log, kv)).problems, problems);
  });
}

test('a kv row at a sequence that is not an integer is held by no transaction', async (t) => {
  t.deepEqual(checkTables(await withStore(t, contiguous, [['a', 1.5]])).problems, [unheld('a', 1.5)]);
});

test('the check leaves CHECK constraints enforced on the connection', async (t) => {
  const sqlite = await withStore(t, contiguous, []);
  t.deepEqual(checkTables(sqlite).problems, []);
  t.throws(() => sqlite.prepare(`insert into transactions (id, state, epoch, updated_at) values ('x', 'BOGUS', 1, 1)`).run(), { any: true, code: 'SQLITE_CONSTRAINT_CHECK' });
});

// What a starting node reads instead of counting again (lib/node/open-node.ts, loadSequences).
test('the table check counts the committed log: how many, and the highest sequence', async (t) => {
  t.deepEqual(checkTables(await withStore(t, contiguous, [])).committed, { count: 3, max: 3 });
  t.deepEqual(checkTables(await withStore(t, gapped, [])).committed, { count: 2, max: 3 });
  t.deepEqual(checkTables(await withStore(t, [['PREPARED', null]], [])).committed, { count: 0, max: 0 });
});

test('a file with structural problems is judged on them alone: tables read through broken pages tell nothing true', (t) => {
  t.deepEqual(judgeStore(['page 4: btree broken'], [unheld('a', 2)]), ['page 4: btree broken']);
  t.deepEqual(judgeStore([], [unheld('a', 2)]), [unheld('a', 2)]);
  t.deepEqual(judgeStore([], []), []);
});

/**
 * The participant log over a real SQLite file: one batch, one transaction. The meta store's
 * epoch, which never goes back.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, sqlite_page_cache_max_kib } from '../../lib/storage/database.ts';
import { ParticipantLog } from '../../lib/storage/participant-log.ts';
import { KvReads } from '../../lib/storage/kv-reads.ts';
import { MetaStore } from '../../lib/storage/meta.ts';
import { DecisionLog } from '../../lib/storage/decision-log.ts';
import type { Payload } from '../../lib/protocol/payload.ts';

async function openLog(t: { teardown(fn: () => unknown): void }) {
  return (await openLogWithHandle(t)).log;
}

async function openLogWithHandle(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-storage-'));
  const database = await openDatabase(dir);
  t.teardown(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    log: new ParticipantLog(database.db, database.sqlite),
    sqlite: database.sqlite,
    kv: new KvReads(database.db),
    /** A second log on the same file: it has read nothing yet, so it answers from the file. */
    fromFile: () => new ParticipantLog(database.db, database.sqlite),
  };
}

test('one write persists prepares, commits and aborts together, and commits apply last-writer-wins by sequence', async (t) => {
  const log = await openLog(t);
  log.write({
    prepared: [{ id: 'p1', payload: { a: 1 }, epoch: 1, now_ms: 1 }],
    committed: [
      { transaction_id: 'c2', sequence: 2, payload: { k: 'two' }, epoch: 1, now_ms: 1 },
      { transaction_id: 'c1', sequence: 1, payload: { k: 'one', gone: null }, epoch: 1, now_ms: 1 },
    ],
    aborted: [{ id: 'x1', epoch: 1, now_ms: 1 }],
  });
  t.is(log.findNow('p1')?.state, 'PREPARED');
  t.is(log.findNow('x1')?.state, 'ABORTED');
  t.deepEqual(await log.readLog(0, 10), [
    { transaction_id: 'c1', sequence: 1, payload: { k: 'one', gone: null } },
    { transaction_id: 'c2', sequence: 2, payload: { k: 'two' } },
  ]);
  t.deepEqual(log.summarizeCommitted(), { count: 2, max: 2 });
});

// Blind writes of one master's term share keys (lib/two-phase-commit/key-sharing.ts), so a
// replica may get two commits of one key in either order: the higher sequence must win.
test('a key takes the write of the highest sequence, whatever order the commits arrive in, a delete included', async (t) => {
  const { log, kv } = await openLogWithHandle(t);
  const commit = (transaction_id: string, sequence: number, payload: Payload) => log.write({ prepared: [], committed: [{ transaction_id, sequence, payload, epoch: 1, now_ms: 1 }], aborted: [] });
  commit('c3', 3, { k: 'three', gone: null });
  commit('c2', 2, { k: 'two', gone: 'back?' });
  t.deepEqual(await kv.get('k'), { key: 'k', value: 'three', sequence: 3 });
  t.is(await kv.get('gone'), undefined, 'a lower sequence does not bring back a key a higher one deleted');
  commit('c4', 4, { k: 'four' });
  t.deepEqual(await kv.get('k'), { key: 'k', value: 'four', sequence: 4 });
});

test('a write that fails leaves nothing behind', async (t) => {
  const log = await openLog(t);
  log.write({ prepared: [{ id: 'dup', payload: { a: 1 }, epoch: 1, now_ms: 1 }], committed: [], aborted: [] });
  t.throws(() => log.write({ prepared: [{ id: 'new', payload: { b: 1 }, epoch: 1, now_ms: 1 }, { id: 'dup', payload: { a: 1 }, epoch: 1, now_ms: 1 }], committed: [], aborted: [] }), { any: true, code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  t.is(log.findNow('new'), undefined);
});

// The log keeps the records it wrote PREPARED in memory until a write decides them: what
// findNow answers must be what the file holds, whatever happens to that write.
test('a prepared record is answered as the file holds it, and a write that decides it (landed or failed) makes the file answer again', async (t) => {
  const { log, fromFile } = await openLogWithHandle(t);
  const parts = ['127.0.0.1:1', '127.0.0.1:2'];
  log.write({
    prepared: [
      { id: 'p1', payload: { a: { deep: [1, null, 'x'] }, b: null }, epoch: 3, now_ms: 11, coordinator: '127.0.0.1:1', participants: parts },
      { id: 'p2', payload: { c: -1.5 }, epoch: 3, now_ms: 12 },
      { id: 'p3', payload: { d: true }, epoch: 3, now_ms: 13, coordinator: '127.0.0.1:1' },
    ],
    committed: [],
    aborted: [],
  });
  for (const id of ['p1', 'p2', 'p3']) t.deepEqual(log.findNow(id), fromFile().findNow(id), id);
  // A decision that fails (a duplicate prepare in the same write) changes nothing, and p1 is read from the file.
  t.throws(() => log.write({ prepared: [{ id: 'p2', payload: { c: 1 }, epoch: 3, now_ms: 14 }], committed: [{ transaction_id: 'p1', sequence: 1, payload: { a: 1 }, epoch: 3, now_ms: 14 }], aborted: [] }), { any: true });
  t.deepEqual(log.findNow('p1'), fromFile().findNow('p1'));
  t.is(log.findNow('p1')?.state, 'PREPARED');
  log.write({ prepared: [], committed: [{ transaction_id: 'p1', sequence: 1, payload: { a: { deep: [1, null, 'x'] }, b: null }, epoch: 3, now_ms: 15 }], aborted: [{ id: 'p2', epoch: 3, now_ms: 15 }] });
  t.like(log.findNow('p1'), { state: 'COMMITTED', sequence: 1, updated_at: 15 });
  t.like(log.findNow('p2'), { state: 'ABORTED', updated_at: 15 });
  // A replica reset keeps PREPARED rows; the answer is still the file's.
  log.resetReplica();
  t.deepEqual(log.findNow('p3'), fromFile().findNow('p3'));
  t.is(log.findNow('p1'), undefined);
  // A prepare and its decision in one write: the decision wins, in the file and in the answer.
  log.write({ prepared: [{ id: 'p4', payload: { e: 1 }, epoch: 3, now_ms: 16 }], committed: [], aborted: [{ id: 'p4', epoch: 3, now_ms: 16 }] });
  t.is(log.findNow('p4')?.state, 'ABORTED');
  t.deepEqual(log.findNow('p4'), fromFile().findNow('p4'));
});

test('a batch of lookups answers, in order, what each lookup alone answers: held, on file, decided or unknown', async (t) => {
  const { log, fromFile } = await openLogWithHandle(t);
  log.write({ prepared: [{ id: 'held', payload: { a: 1 }, epoch: 1, now_ms: 1 }, { id: 'done', payload: { b: 1 }, epoch: 1, now_ms: 1 }], committed: [], aborted: [{ id: 'fenced', epoch: 1, now_ms: 1 }] });
  log.write({ prepared: [], committed: [{ transaction_id: 'done', sequence: 1, payload: { b: 1 }, epoch: 1, now_ms: 2 }], aborted: [] });
  const ids = ['held', 'unknown', 'done', 'fenced', 'held'];
  const each = ids.map((id) => log.findNow(id));
  t.deepEqual(log.findManyNow(ids), each);
  t.deepEqual(fromFile().findManyNow(ids), each, 'and what the file holds');
  t.deepEqual(
    each.map((record) => record?.state),
    ['PREPARED', undefined, 'COMMITTED', 'ABORTED', 'PREPARED'],
  );
  t.deepEqual(log.findManyNow([]), []);
});

test('a commit updates the row held here (its coordinator, epoch and participants kept) and inserts one never held', async (t) => {
  const { log, fromFile } = await openLogWithHandle(t);
  log.write({ prepared: [{ id: 'held', payload: { a: 1 }, epoch: 2, now_ms: 1, coordinator: '127.0.0.1:1', participants: ['127.0.0.1:1', '127.0.0.1:2'] }], committed: [], aborted: [] });
  log.write({
    prepared: [],
    committed: [
      { transaction_id: 'held', sequence: 1, payload: { a: 1 }, epoch: 3, now_ms: 5, coordinator: '127.0.0.1:9' },
      { transaction_id: 'learnt', sequence: 2, payload: { b: 2 }, epoch: 3, now_ms: 5, coordinator: '127.0.0.1:9' },
    ],
    aborted: [],
  });
  t.deepEqual(fromFile().findNow('held'), { id: 'held', state: 'COMMITTED', epoch: 2, updated_at: 5, payload: { a: 1 }, sequence: 1, coordinator: '127.0.0.1:1', participants: ['127.0.0.1:1', '127.0.0.1:2'] });
  t.deepEqual(fromFile().findNow('learnt'), { id: 'learnt', state: 'COMMITTED', epoch: 3, updated_at: 5, payload: { b: 2 }, sequence: 2, coordinator: '127.0.0.1:9' });
  t.throws(() => log.write({ prepared: [], committed: [{ transaction_id: 'other', sequence: 1, payload: { c: 3 }, epoch: 3, now_ms: 6 }], aborted: [] }), { any: true }, 'a sequence already taken is refused');
});

// Found by the simulation (seed 141 of its third sweep): a node that aborted its own round of
// an id could never catch up once a client's retry of that id committed elsewhere.
test('a commit learnt from the log supersedes an abort of an earlier round, with its writes', async (t) => {
  const log = await openLog(t);
  log.write({ prepared: [{ id: 'retried', payload: { a: 1 }, epoch: 1, now_ms: 1 }], committed: [], aborted: [] });
  log.write({ prepared: [], committed: [], aborted: [{ id: 'retried', epoch: 1, now_ms: 2 }] });
  log.write({ prepared: [], committed: [{ transaction_id: 'retried', sequence: 1, payload: { a: 1 }, epoch: 2, now_ms: 3 }], aborted: [] });
  t.like(log.findNow('retried'), { state: 'COMMITTED', sequence: 1, payload: { a: 1 } });
  t.deepEqual(await log.readLog(0, 10), [{ transaction_id: 'retried', sequence: 1, payload: { a: 1 } }]);
});

test('an unsynced write (the coordinator applying a commit durable elsewhere) is read at once, and every write after it is synced again', async (t) => {
  const { log, sqlite } = await openLogWithHandle(t);
  log.write({ prepared: [{ id: 'c1', payload: { k: 'v' }, epoch: 1, now_ms: 1 }], committed: [], aborted: [] });
  log.write({ prepared: [], committed: [{ transaction_id: 'c1', sequence: 1, payload: { k: 'v' }, epoch: 1, now_ms: 2 }], aborted: [] }, 'unsynced');
  t.like(log.findNow('c1'), { state: 'COMMITTED', sequence: 1 });
  t.is(sqlite.pragma('synchronous', { simple: true }), 2, 'synchronous=FULL again after the unsynced write');
  t.throws(() => log.write({ prepared: [], committed: [{ transaction_id: 'c2', sequence: 1, payload: { k: 'w' }, epoch: 1, now_ms: 3 }], aborted: [] }, 'unsynced'), { any: true });
  t.is(sqlite.pragma('synchronous', { simple: true }), 2, 'synchronous=FULL again after an unsynced write that failed');
});

test("the node's connection caps SQLite's page cache at sqlite_page_cache_max_kib, not better-sqlite3's 16 MB", async (t) => {
  const { sqlite } = await openLogWithHandle(t);
  t.deepEqual(sqlite.pragma('cache_size'), [{ cache_size: -sqlite_page_cache_max_kib }]);
  t.true(sqlite_page_cache_max_kib < 16_000);
});

// The epoch a node reports to a reconciling coordinator (views' `enforced_epoch`) must survive
// a restart: two adoptions racing may write in either order, and the older must not win.
test('the stored epoch is only ever raised: a later write of an older epoch leaves it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-meta-'));
  const database = await openDatabase(dir);
  t.teardown(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const meta = new MetaStore(database.db);
  t.is(await meta.readEpoch(), 0);
  await meta.writeEpoch(7);
  await Promise.all([meta.writeEpoch(12), meta.writeEpoch(9)]);
  t.is(await meta.readEpoch(), 12);
  await meta.writeEpoch(3);
  t.is(await meta.readEpoch(), 12);
  await meta.writeEpoch(13);
  t.is(await meta.readEpoch(), 13);
});

// A repair's wiped log is remembered across a restart until it has been pulled again
// (NodeState `log_reset`): a replica restarted mid-repair must still say so in its views.
test('whether a repair wiped the log survives a reopen of the file, until cleared', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-meta-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await openDatabase(dir);
  t.false(await new MetaStore(first.db).readLogReset());
  await new MetaStore(first.db).writeLogReset(true);
  await first.close();
  const second = await openDatabase(dir);
  t.true(await new MetaStore(second.db).readLogReset());
  await new MetaStore(second.db).writeLogReset(false);
  t.false(await new MetaStore(second.db).readLogReset());
  await second.close();
});

test("decisions of several rounds recorded together each keep their own round's participants", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-storage-'));
  const database = await openDatabase(dir);
  t.teardown(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const decisions = new DecisionLog(database.db, database.sqlite);
  const first = ['a:1', 'b:2', 'c:3'];
  const second = ['a:1', 'b:2'];
  decisions.recordMany([
    { id: 'r1-x', decision: 'COMMIT', sequence: 1, epoch: 4, participants: first, created_at: 10 },
    { id: 'r1-y', decision: 'ABORT', epoch: 4, participants: first, created_at: 10 },
    { id: 'r2-x', decision: 'COMMIT', sequence: 2, epoch: 4, participants: second, created_at: 10 },
    { id: 'r3-x', decision: 'COMMIT', sequence: 3, epoch: 4, participants: [...first], created_at: 10 },
  ]);
  t.deepEqual(await decisions.find('r1-x'), { id: 'r1-x', decision: 'COMMIT', sequence: 1, epoch: 4, participants: first, created_at: 10 });
  t.deepEqual((await decisions.find('r1-y'))?.participants, first);
  t.deepEqual((await decisions.find('r2-x'))?.participants, second);
  t.deepEqual((await decisions.find('r3-x'))?.participants, first);
});

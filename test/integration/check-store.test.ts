/**
 * Where the start-up check runs SQLite's quick_check (lib/boot/check-store.ts), over real
 * SQLite files with a page of `decisions` overwritten by random bytes (a table the kv-against-
 * log check never reads, so only quick_check can refuse the file): below the size limit in the
 * node's own process, at or above it in a process of its own, and in the node's process again
 * when that process cannot answer. Wherever it runs, the damaged file is refused with
 * quick_check's own problems and a sound one passes.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStoreAtStart, store_check_apart_min_bytes, type StoreCheckPlace } from '../../lib/boot/check-store.ts';
import { openDatabase, type OpenedDatabase } from '../../lib/storage/database.ts';
import { checkStructure, checkTables } from '../../lib/storage/store-check.ts';
import { overwriteLeafPage } from '../helpers/damage-store.ts';

const shipped_entry = 'lib/boot/store-structure-main';
const store_rows = 200;

const places: readonly { readonly name: string; readonly place: StoreCheckPlace }[] = [
  { name: 'in the node (a file below the shipped limit)', place: { apart_min_bytes: store_check_apart_min_bytes, apart_entry: shipped_entry } },
  { name: 'apart (a file above a small limit)', place: { apart_min_bytes: 1, apart_entry: shipped_entry } },
  { name: 'in the node after the process apart cannot answer', place: { apart_min_bytes: 1, apart_entry: 'lib/boot/no-such-entry' } },
];

/** A store of committed transactions, each with its kv row and decision (several leaf pages each), optionally damaged, open again. */
async function openStore(t: { teardown(fn: () => unknown): void }, damaged: boolean): Promise<OpenedDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-check-store-'));
  const filled = await openDatabase(dir);
  const put_tx = filled.sqlite.prepare(`insert into transactions (id, state, payload, sequence, coordinator, epoch, participants, updated_at) values (?, 'COMMITTED', '{}', ?, 'a', 1, null, 1)`);
  const put_kv = filled.sqlite.prepare(`insert into kv (key, value, sequence) values (?, ?, ?)`);
  const put_decision = filled.sqlite.prepare(`insert into decisions (id, decision, sequence, epoch, participants, created_at) values (?, 'COMMIT', ?, 1, ?, 1)`);
  filled.sqlite.transaction(() => {
    for (let sequence = 1; sequence <= store_rows; sequence += 1) {
      put_tx.run(`t${sequence}`, sequence);
      put_kv.run(`key-${sequence}`, `${sequence}-`.padEnd(200, 'x'), sequence);
      put_decision.run(`t${sequence}`, sequence, `${sequence}-`.padEnd(200, 'p'));
    }
  })();
  await filled.close();
  if (damaged) overwriteLeafPage(filled.file, 'decisions');
  const database = await openDatabase(dir);
  t.teardown(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return database;
}

for (const { name, place } of places) {
  test(`quick_check ${name}: a sound file passes`, async (t) => {
    const database = await openStore(t, false);
    t.deepEqual(await checkStoreAtStart(database.sqlite, database.file, place), { problems: [], committed: { count: store_rows, max: store_rows } });
  });

  test(`quick_check ${name}: a file with a decisions page overwritten is refused with quick_check's problems`, async (t) => {
    const database = await openStore(t, true);
    t.deepEqual(checkTables(database.sqlite).problems, [], 'the damage is only quick_check\'s to find');
    const { problems } = await checkStoreAtStart(database.sqlite, database.file, place);
    t.true(problems.length > 0, 'a damaged file must be refused');
    t.deepEqual(problems, checkStructure(database.sqlite));
  });
}

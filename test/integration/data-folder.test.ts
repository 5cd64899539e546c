/**
 * A node's data folder belongs to one process (issue 14, items 5 and 6): a second node on the
 * same folder, directly or through a symlink, is refused (exit 2, naming the folder and the
 * holder) and changes nothing there; a lock left by a SIGKILLed node blocks no restart.
 */
import test from 'ava';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneErrorLine, cleanUpCli, makeTempDir, runTwopc, TwopcProcess } from '../helpers/cli-process.ts';
import { findFreePorts } from '../helpers/ports.ts';
import { request } from '../helpers/http.ts';

test.after.always(cleanUpCli);

/** A single-node cluster on `addr` over `data_dir`, serving. */
async function startSingle(addr: string, data_dir: string): Promise<TwopcProcess> {
  const node = new TwopcProcess(['start-node', '--addr', addr, '--data-dir', data_dir]);
  await node.waitForLine(/serving/, 30_000);
  return node;
}

test('a second node on a held folder through a symlink is refused, exit 2, naming the folder and the holder', async (t) => {
  const [first_port, second_port] = (await findFreePorts(2)) as [number, number];
  const first_addr = `127.0.0.1:${first_port}`;
  const data_dir = makeTempDir('folder-held');
  const first = await startSingle(first_addr, data_dir);
  const first_folder = join(data_dir, `127.0.0.1_${first_port}`);
  // The second node's own folder is a symlink to the first's: one folder, two nodes.
  const other_dir = makeTempDir('folder-other');
  symlinkSync(first_folder, join(other_dir, `127.0.0.1_${second_port}`));
  const run = await runTwopc(['start-node', '--addr', `127.0.0.1:${second_port}`, '--data-dir', other_dir], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, 'symlinked folder');
  t.true(line.includes(first_folder), `names the folder: ${line}`);
  t.true(line.includes(first_addr), `names the holder's address: ${line}`);
  t.true(line.includes(`pid ${first.pid}`), `names the holder's pid ${first.pid}: ${line}`);
  t.is((await request(first_addr, 'GET', '/health')).status, 200, 'the holder serves on');
  const committed = await request(first_addr, 'POST', '/transactions', { payload: { after: 'refusal' } });
  t.is(committed.status, 200, JSON.stringify(committed.body));
});

test('the same folder and address twice: the second start is refused, exit 2, naming the holder', async (t) => {
  const [port] = (await findFreePorts(1)) as [number];
  const addr = `127.0.0.1:${port}`;
  const data_dir = makeTempDir('folder-twice');
  const first = await startSingle(addr, data_dir);
  const run = await runTwopc(['start-node', '--addr', addr, '--data-dir', data_dir], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, 'same folder');
  t.true(line.includes(addr), line);
  t.true(line.includes(join(data_dir, `127.0.0.1_${port}`)) || /address already in use/.test(line), line);
  t.true(first.running);
});

test('a lock left by a SIGKILLed node does not block its restart', async (t) => {
  const [port] = (await findFreePorts(1)) as [number];
  const addr = `127.0.0.1:${port}`;
  const data_dir = makeTempDir('folder-stale');
  const first = await startSingle(addr, data_dir);
  t.is((await request(addr, 'POST', '/transactions', { payload: { k: 'before' } })).status, 200);
  await first.kill();
  const second = await startSingle(addr, data_dir);
  t.true(second.running);
  t.deepEqual((await request(addr, 'GET', '/kv/k')).body.value, 'before');
});

test('two nodes in one process on one folder: the second is refused while the first holds it, and takes it once released', async (t) => {
  const { lockFolder, FolderBusyError } = await import('../../lib/storage/folder-lock.ts');
  const dir = makeTempDir('folder-in-process');
  mkdirSync(join(dir, 'n'));
  const first = lockFolder(join(dir, 'n'), '127.0.0.1:1');
  const error = t.throws(() => lockFolder(join(dir, 'n'), '127.0.0.1:2'));
  t.true(error instanceof FolderBusyError);
  t.regex(error?.message ?? '', /127\.0\.0\.1:1/);
  first.release();
  const second = lockFolder(join(dir, 'n'), '127.0.0.1:2');
  second.release();
});

test('a second start of a running address with extra --peers exits 2 and leaves the running node as it was', async (t) => {
  const [port, ghost_a, ghost_b] = (await findFreePorts(3)) as [number, number, number];
  const addr = `127.0.0.1:${port}`;
  const data_dir = makeTempDir('folder-second-start');
  const first = await startSingle(addr, data_dir);
  t.is((await request(addr, 'POST', '/transactions', { payload: { k: 'v1' } })).status, 200);
  const run = await runTwopc(['start-node', '--addr', addr, '--peers', `127.0.0.1:${ghost_a},127.0.0.1:${ghost_b}`, '--data-dir', data_dir], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  assertOneErrorLine(t, run, 'second start');
  t.deepEqual((await request(addr, 'GET', '/role')).body.nodes.map((node: { addr: string }) => node.addr), [addr], 'membership unchanged while it runs');
  first.signal('SIGTERM');
  t.deepEqual(await first.exitWithin(12_000), { code: 0, signal: null });
  // Restarted as it was (a cluster of one): it serves at once, not stuck catching up behind two ghosts.
  await startSingle(addr, data_dir);
  t.deepEqual((await request(addr, 'GET', '/role')).body.nodes.map((node: { addr: string }) => node.addr), [addr], 'stored membership unchanged');
  t.is((await request(addr, 'POST', '/transactions', { payload: { k: 'v2' } })).status, 200);
});

test('a start on a busy port writes nothing into its own (other) data folder', async (t) => {
  const [port] = (await findFreePorts(1)) as [number];
  const addr = `127.0.0.1:${port}`;
  await startSingle(addr, makeTempDir('folder-running'));
  const other = makeTempDir('folder-untouched');
  const run = await runTwopc(['start-node', '--addr', addr, '--peers', '127.0.0.1:1', '--data-dir', other], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, 'busy port');
  t.regex(line, /address already in use/);
  const folder = join(other, `127.0.0.1_${port}`);
  t.false(existsSync(join(folder, 'twopc.sqlite')), 'no database was created before the port was owned');
});

/**
 * The client library (`import { connect } from 'twopc'`) against real node processes:
 * commits, reads (paging, min_sequence on a replica), transactions and status; typed errors
 * for an abort with its votes, bad input and unreachable nodes; a failover (the master
 * SIGKILLed, the next commit goes to the new master); and a commit whose answer is lost,
 * resubmitted with the same id and applied once.
 */
import test from 'ava';
import {
  AbortedError,
  BadInputError,
  connect,
  NotServedError,
  UnknownOutcomeError,
  UnreachableError,
  type TwopcClient,
} from '../../lib/client/index.ts';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { findFreePorts } from '../helpers/ports.ts';

let cluster: ProcessCluster;
let db: TwopcClient;

test.before(async () => {
  cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  db = connect({ nodes: cluster.addrs });
});

test.after.always(async () => {
  db?.close();
  await cluster?.stop();
});

/** How many times `transaction_id` appears in a node's committed log. */
async function timesInLog(addr: string, transaction_id: string): Promise<number> {
  const log = await cluster.request(addr, 'GET', '/cluster/log?after=0&limit=1000');
  return (log.body.entries as { transaction_id: string }[]).filter((entry) => entry.transaction_id === transaction_id).length;
}

test.serial('commit, get, list, tx and status through the client', async (t) => {
  const master = await cluster.waitForMaster();
  const committed = await db.commit({ color: 'blue', size: 3 });
  t.is(committed.status, 'COMMITTED');
  t.is(committed.master, master);
  t.deepEqual([...committed.participants].sort(), [...cluster.addrs].sort());
  t.true(committed.sequence >= 1);

  t.deepEqual(await db.get('color'), { key: 'color', value: 'blue', sequence: committed.sequence });
  t.is(await db.get('absent'), undefined);

  // Read-your-writes on every replica: each waits until it has applied the commit.
  for (const node of cluster.addrs) {
    const read = await db.get('size', { node, min_sequence: committed.sequence });
    t.is(read?.value, 3, node);
  }

  const first = await db.list({ limit: 1 });
  t.deepEqual(first.items.map((item) => item.key), ['color']);
  t.is(first.next, 'color');
  const second = await db.list({ after: first.next!, limit: 1 });
  t.deepEqual(second.items.map((item) => item.key), ['size']);
  t.is(second.next, undefined);

  const report = await db.tx(committed.transaction_id);
  t.is(report.outcome, 'COMMITTED');
  t.is(report.sequence, committed.sequence);
  t.is(report.nodes.length, 3);
  t.is((await db.tx('never-submitted')).outcome, 'UNKNOWN');

  const status = await db.status();
  t.deepEqual(status.map((node) => node.addr), [...cluster.addrs]);
  t.true(status.every((node) => node.alive && node.majority === true));
  t.is(status.filter((node) => node.role === 'MASTER').length, 1);
});

test.serial('a replica that has not applied min_sequence answers 503: the client says so, it does not read old data', async (t) => {
  const master = await cluster.waitForMaster();
  const slave = cluster.addrs.find((addr) => addr !== master)!;
  const error = await t.throwsAsync(db.get('color', { node: slave, min_sequence: 1_000_000 }), { instanceOf: NotServedError });
  t.regex(error?.message ?? '', /sequence 1000000 not applied/);
});

const package_dir = fileURLToPath(new URL('../..', import.meta.url));

test.serial("import { connect } from 'twopc' in a plain Node process: the compiled entry with its types", async (t) => {
  const manifest = JSON.parse(readFileSync(`${package_dir}/package.json`, 'utf8')) as { exports: { '.': { types: string; default: string } }; types: string };
  t.true(existsSync(`${package_dir}/${manifest.exports['.'].default}`), 'the compiled entry exists');
  t.true(existsSync(`${package_dir}/${manifest.exports['.'].types}`), 'its declarations exist');
  t.is(manifest.types, manifest.exports['.'].types);
  // The README's example, run by plain node (no tsx) from the package directory, which
  // resolves 'twopc' to the package itself through `exports`.
  const script = `
    import { connect, UnknownOutcomeError } from 'twopc';
    const db = connect({ nodes: ${JSON.stringify(cluster.addrs)} });
    const { sequence } = await db.commit({ from_package: 'yes' });
    const row = await db.get('from_package', { min_sequence: sequence, node: ${JSON.stringify(cluster.addrs[2])} });
    db.close();
    console.log(JSON.stringify({ value: row.value, unknown: typeof UnknownOutcomeError }));
  `;
  const run = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: package_dir, timeout: 60_000 });
  const printed = JSON.parse(run.stdout) as { value: unknown; unknown: string };
  t.is(printed.value, 'yes');
  t.is(printed.unknown, 'function');
});

test.serial('a TypeScript project that depends on twopc type-checks against its declarations (and a wrong type is caught)', async (t) => {
  const project = mkdtempSync(join(tmpdir(), 'twopc-consumer-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(package_dir, join(project, 'node_modules', 'twopc'), 'dir');
  const source = (extra: string) => [
    "import { connect, UnknownOutcomeError, type Committed, type Entry } from 'twopc';",
    "const db = connect({ nodes: ['127.0.0.1:8081'], secret: 'x'.repeat(32) });",
    "const c: Committed = await db.commit({ k: 'v' }, { id: 'order-42', timeout_ms: 5_000 });",
    'const r: Entry | undefined = await db.get(\'k\', { min_sequence: c.sequence, node: c.master });',
    'void r; void UnknownOutcomeError;',
    extra,
  ].join('\n');
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  // One run over two files: the right use passes, the wrong one is the only error.
  writeFileSync(join(project, 'use.mts'), source(''));
  writeFileSync(join(project, 'misuse.mts'), source('const n: number = c.transaction_id; void n;'));
  const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(package_dir, 'node_modules/@types'), 'use.mts', 'misuse.mts'];
  const output = await promisify(execFile)(process.execPath, [tsc, ...flags], { cwd: project, timeout: 120_000 }).then(() => '', (error: { stdout?: string }) => error.stdout ?? 'failed');
  t.deepEqual(output.trim().split('\n'), ["misuse.mts(6,7): error TS2322: Type 'string' is not assignable to type 'number'."]);
});

test.serial('typed errors: an abort carries the votes, bad input is refused before sending, unreachable nodes are named', async (t) => {
  const master = await cluster.waitForMaster();
  const voter = cluster.addrs.find((addr) => addr !== master)!;
  t.is((await cluster.request(voter, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'abort' })).status, 200);
  try {
    const aborted = await t.throwsAsync(db.commit({ refused: true }), { instanceOf: AbortedError });
    t.is(aborted?.kind, 'aborted');
    t.regex(aborted?.votes[voter] ?? '', /^ABORT/);
    t.regex(aborted?.message ?? '', new RegExp(`votes: .*${voter.replace(/\./g, '\\.')} ABORT`));
  } finally {
    await cluster.request(voter, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'off' });
  }
  t.is(await db.get('refused'), undefined, 'nothing applied');

  await t.throwsAsync(db.commit({}), { instanceOf: BadInputError });
  await t.throwsAsync(db.commit({ k: 1 }, { id: 'not an id!' }), { instanceOf: BadInputError });
  await t.throwsAsync(db.get(''), { instanceOf: BadInputError });
  t.throws(() => connect({ nodes: ['nonsense'] }), { instanceOf: BadInputError });

  const [free_port] = await findFreePorts(1);
  const nowhere = connect({ nodes: [`127.0.0.1:${free_port}`] });
  const unreachable = await t.throwsAsync(nowhere.commit({ k: 1 }), { instanceOf: UnreachableError });
  t.regex(unreachable?.message ?? '', /connection refused/);
  nowhere.close();
});

test.serial('a commit whose answer is lost is resubmitted with the same id and applied once', async (t) => {
  const master = await cluster.waitForMaster();
  const delay_ms = 4_000;
  t.is((await cluster.request(master, 'POST', '/debug/failpoints', { name: 'before-decision-send', action: `delay:${delay_ms}` })).status, 200);
  t.teardown(() => cluster.request(master, 'POST', '/debug/failpoints', { name: 'before-decision-send', action: 'off' }).catch(() => undefined));
  const id = 'client-lost-answer';
  const before = (await cluster.request(master, 'GET', '/role')).body.last_sequence as number;

  // No answer within the timeout: the outcome is unknown, not guessed.
  const unknown = await t.throwsAsync(db.commit({ lost: 'answer' }, { id, timeout_ms: 1_000 }), { instanceOf: UnknownOutcomeError });
  t.is(unknown?.transaction_id, id);
  await cluster.request(master, 'POST', '/debug/failpoints', { name: 'before-decision-send', action: 'off' });

  // The same id again: the master answers it with its recorded outcome.
  const again = await db.commit({ lost: 'answer' }, { id, timeout_ms: 20_000 });
  t.is(again.transaction_id, id);
  t.is(again.sequence, before + 1, 'one sequence, taken once');
  const data = await cluster.checkConsistent();
  t.deepEqual(data.find((item) => item.key === 'lost'), { key: 'lost', value: 'answer', sequence: again.sequence });
  for (const addr of cluster.addrs) t.is(await timesInLog(addr, id), 1, `applied once on ${addr}`);
});

test.serial('failover: the master crashes mid-commit; the client resubmits the same id to the new master; it lands once', async (t) => {
  const old_master = await cluster.waitForMaster();
  const warm = await db.commit({ before_failover: 1 });
  t.is(warm.master, old_master);

  // The master dies (as by SIGKILL: the failpoint exits at once) right after one replica
  // applied the commit: the client's connection breaks with no answer, so it finds the new
  // master and resubmits the same id, which that master answers with the outcome it holds.
  t.is((await cluster.request(old_master, 'POST', '/debug/failpoints', { name: 'after-first-commit', action: 'crash' })).status, 200);
  const id = 'client-failover';
  const committed = await db.commit({ during_failover: 1 }, { id, timeout_ms: 60_000 });
  t.is(committed.transaction_id, id);
  t.false(cluster.isRunning(old_master), 'the old master crashed');
  t.not(committed.master, old_master, 'the answer came from the new master');
  const data = await cluster.checkConsistent(30_000);
  t.deepEqual(data.find((item) => item.key === 'during_failover'), { key: 'during_failover', value: 1, sequence: committed.sequence });

  // The next commit goes straight to the new master.
  const next = await db.commit({ after_failover: 1 });
  t.is(next.master, committed.master);
  t.is(next.sequence, committed.sequence + 1);

  // Back again, the old master catches up: the transaction is in every log exactly once.
  await cluster.restart(old_master);
  await cluster.checkConsistent(30_000);
  for (const addr of cluster.addrs) t.is(await timesInLog(addr, id), 1, `applied once on ${addr}`);

  // A plain SIGKILL of the master: the client's next commit goes to the new one.
  const master = await cluster.waitForMaster();
  await cluster.kill(master, 'SIGKILL');
  const after_kill = await db.commit({ after_kill: 1 }, { timeout_ms: 30_000 });
  t.not(after_kill.master, master);
  t.deepEqual(await db.get('after_kill'), { key: 'after_kill', value: 1, sequence: after_kill.sequence });
});

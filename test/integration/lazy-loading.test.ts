/**
 * Each command loads what it needs when it runs, nothing more: the client commands and
 * `--help` never load the node stack, SQLite, piscina, bench or chaos; a node loads the
 * dashboard page only when it is asked for and pino-pretty only on a terminal. Checked on real
 * `twopc` processes that record every module they load (test/helpers/module-recorder.mjs:
 * ES modules as they resolve, CommonJS ones from require.cache at exit).
 */
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllTwopc, runTwopc, TwopcProcess } from '../helpers/cli-process.ts';
import { request } from '../helpers/http.ts';
import { findFreePorts } from '../helpers/ports.ts';

const recorder = new URL('../helpers/module-recorder.mjs', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'twopc-lazy-'));

test.after.always(async () => {
  await killAllTwopc();
  rmSync(dir, { recursive: true, force: true });
});

/** What a client command must never load; `lib/node/options` is plain constants (tx reads its limits). */
const heavy: readonly RegExp[] = [
  /\/lib\/(boot|storage|transport|supervisor|bench|chaos|two-phase-commit|cluster)\//,
  /\/lib\/node\/(?!options\.)/,
  /\/node_modules\/(better-sqlite3|kysely|piscina|pino|pino-pretty|h3|listhen|prom-client)\//,
];

function recorderEnv(log: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${recorder}`, TWOPC_MODULE_LOG: log };
}

function readLog(log: string): readonly string[] {
  return [...new Set(readFileSync(log, 'utf8').split('\n').filter((line) => line !== ''))];
}

/** Runs `twopc ...args` with the recorder; returns every module it loaded. */
async function modulesLoadedBy(t: ExecutionContext, args: readonly string[], expected_code: number): Promise<readonly string[]> {
  const log = join(dir, `${randomUUID()}.log`);
  const run = await runTwopc(args, { env: recorderEnv(log) });
  t.is(run.code, expected_code, `twopc ${args.join(' ')}: ${run.stderr}`);
  return readLog(log);
}

function heavyAmong(modules: readonly string[]): readonly string[] {
  return modules.filter((module) => heavy.some((pattern) => pattern.test(module)));
}

const nobody = async (): Promise<string> => `127.0.0.1:${(await findFreePorts(1))[0]}`;

const client_commands: ReadonlyArray<{ readonly name: string; readonly args: (nodes: string) => readonly string[]; readonly code: number; readonly module: string; readonly also_absent?: RegExp }> = [
  { name: '--help', args: () => ['--help'], code: 0, module: '/cli.js', also_absent: /\/lib\/client\/|\/node_modules\/valibot\// },
  // commit: no read, status or tx code, nor the peer schemas (connect() loads those on first use).
  { name: 'commit', args: (nodes) => ['commit', '--payload', '{"a":1}', '--nodes', nodes], code: 2, module: '/lib/cli/commit.js', also_absent: /\/lib\/client\/(read|status|transaction)\.js$|\/lib\/protocol\/messages\.js$/ },
  { name: 'get', args: (nodes) => ['get', 'a', '--nodes', nodes], code: 2, module: '/lib/cli/get.js' },
  { name: 'status', args: (nodes) => ['status', '--nodes', nodes], code: 2, module: '/lib/cli/status.js' },
  { name: 'tx', args: (nodes) => ['tx', randomUUID(), '--nodes', nodes], code: 2, module: '/lib/cli/tx.js' },
];

for (const command of client_commands) {
  test(`twopc ${command.name} loads no node stack, SQLite, piscina, bench or chaos`, async (t) => {
    const modules = await modulesLoadedBy(t, command.args(await nobody()), command.code);
    t.true(modules.some((module) => module.endsWith(command.module)), `the recorder saw the command's own module ${command.module}`);
    t.deepEqual(heavyAmong(modules), []);
    // --help loads no request code at all: the client library and valibot come with a command.
    // commit loads only the client library's commit path.
    if (command.also_absent) t.deepEqual(modules.filter((module) => command.also_absent?.test(module)), []);
  });
}

test('the recorder sees heavy modules where a command does load them: cluster loads piscina, not the node stack', async (t) => {
  // --size 0 is a usage error raised by the cluster command's own module, after its imports.
  const modules = await modulesLoadedBy(t, ['cluster', '--size', '0'], 2);
  t.true(modules.some((module) => /\/node_modules\/piscina\//.test(module)));
  // The supervisor's thread runs no node: the nodes live in the worker threads.
  const node_stack = /\/lib\/(storage|transport|two-phase-commit)\/|\/lib\/boot\/(start-node|logger|metrics)\.|\/lib\/node\/node\.|\/node_modules\/(better-sqlite3|kysely|pino|h3|listhen)\//;
  t.deepEqual(modules.filter((module) => node_stack.test(module)), []);
});

test('a node loads the dashboard page when it is asked for, pino-pretty not at all off a terminal, and only undici\'s Pool and prom-client\'s metric classes', async (t) => {
  const log = join(dir, `${randomUUID()}.log`);
  const addr = await nobody();
  const node = new TwopcProcess(['start-node', '--addr', addr, '--data-dir', join(dir, 'node')], recorderEnv(log));
  await node.waitForLine(/serving/, 60_000); // the recorder's loader thread slows start-up on a busy machine
  const page = fileURLToPath(new URL('../../dist/lib/transport/dashboard-page.js', import.meta.url));
  t.false(readLog(log).some((module) => module.endsWith(page)), 'the dashboard page was loaded before anyone asked for it');
  t.is((await request(addr, 'GET', '/')).status, 200);
  t.true(readLog(log).some((module) => module.endsWith(page)), 'the dashboard page was not loaded when asked for');
  node.signal('SIGTERM');
  t.is((await node.exited).code, 0);
  const modules = readLog(log);
  t.true(modules.some((module) => /\/node_modules\/better-sqlite3\/lib\/database\.js$/.test(module)), 'the recorder lists CommonJS modules');
  t.deepEqual(modules.filter((module) => /\/node_modules\/pino-pretty\//.test(module)), []);
  // The peer client takes undici's Pool alone (lib/transport/undici-pool.ts), not its index.
  t.true(modules.some((module) => /\/node_modules\/undici\/lib\/dispatcher\/pool\.js$/.test(module)), 'undici\'s Pool was not loaded');
  t.deepEqual(modules.filter((module) => /\/node_modules\/undici\/(index\.js|lib\/(web|mock|cache)\/)/.test(module)), []);
  // and prom-client's four metric classes alone (lib/boot/prom-client.ts), not its index.
  t.true(modules.some((module) => /\/node_modules\/prom-client\/lib\/histogram\.js$/.test(module)), 'prom-client\'s Histogram was not loaded');
  t.deepEqual(modules.filter((module) => /\/node_modules\/(prom-client\/index\.js|prom-client\/lib\/metrics\/|@opentelemetry\/)/.test(module)), []);
  // and listhen's listen without node-forge or consola (lib/transport/listhen-lean.ts): their
  // entry files are in the require cache as stand-ins, and nothing else of them is loaded.
  t.true(modules.some((module) => /\/node_modules\/listhen\/dist\/shared\/listhen\.[\w-]+\.cjs$/.test(module)), 'listhen was not loaded');
  t.deepEqual(modules.filter((module) => /\/node_modules\/(node-forge\/lib\/(?!index\.js$)|consola\/(?!lib\/index\.cjs$|dist\/utils\.cjs$))/.test(module)), []);
});

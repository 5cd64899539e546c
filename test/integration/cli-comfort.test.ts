/**
 * CLI comfort, as real processes: every command's --help shows examples; `status --watch`
 * redraws until SIGINT and exits 0; `twopc tx ID` says in words where a transaction stands,
 * including one stuck PREPARED after its coordinator crashed at a failpoint.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { killAllTwopc, runTwopc, TwopcProcess } from '../helpers/cli-process.ts';
import { waitFor } from '../helpers/http.ts';

const commands = ['cluster', 'start-node', 'start-master', 'commit', 'status', 'get', 'tx', 'chaos', 'bench'] as const;

test.after.always(async () => {
  await killAllTwopc();
});

test('twopc --help and every command\'s --help show examples', async (t) => {
  const top = await runTwopc(['--help']);
  t.is(top.code, 0);
  t.regex(top.stdout, /Examples:/);
  for (const command of commands) t.true(top.stdout.includes(command), `${command} listed`);
  const runs = await Promise.all(commands.map((command) => runTwopc([command, '--help'])));
  for (const [index, run] of runs.entries()) {
    const command = commands[index]!;
    t.is(run.code, 0, `${command}: ${run.stderr}`);
    t.regex(run.stdout, /Examples:/, command);
    t.true(run.stdout.includes(`$ twopc ${command}`), `${command} --help shows an example of itself`);
  }
});

let cluster: ProcessCluster;

test.serial.before(async () => {
  cluster = await ProcessCluster.start({ size: 3, failpoints: true });
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('status --watch appends frames when piped and exits 0 on SIGINT', async (t) => {
  const watch = new TwopcProcess(['status', '--watch', '--interval', '200', '--nodes', cluster.addrs.join(',')]);
  await waitFor('three frames', async () => (watch.stdout.match(/^ADDRESS/gm)?.length ?? 0) >= 3, 20_000, 100);
  t.false(watch.stdout.includes('\u001b['), 'no terminal control codes when piped');
  t.regex(watch.stdout, /^\d{4}-\d\d-\d\dT.*Ctrl-C/m, 'each frame under its time');
  t.regex(watch.stdout, /MASTER/);
  watch.signal('SIGINT');
  t.deepEqual(await watch.exitWithin(10_000), { code: 0, signal: null });
});

test.serial('status --watch --json prints one JSON object a frame', async (t) => {
  const watch = new TwopcProcess(['status', '--watch', '--json', '--interval', '200', '--nodes', cluster.addrs.join(',')]);
  await waitFor('two lines', async () => watch.stdout.split('\n').filter(Boolean).length >= 2, 20_000, 100);
  const frames = watch.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { nodes: { alive: boolean }[] });
  t.true(frames.every((frame) => frame.nodes.length === 3));
  watch.signal('SIGINT');
  t.like(await watch.exitWithin(10_000), { code: 0 });
});

test.serial('status --interval out of range is a usage error', async (t) => {
  const run = await runTwopc(['status', '--watch', '--interval', '5', '--nodes', cluster.addrs.join(',')]);
  t.is(run.code, 2);
  t.regex(run.stderr, /^twopc: --interval must be a whole number/);
});

test.serial('tx explains: committed everywhere, unknown, stuck after a coordinator crash, committed with a node down', async (t) => {
  const nodes = cluster.addrs.join(',');
  const ok = await cluster.submit({ explained: 1 }, 'tx-explained');
  t.is(ok.status, 200);
  await cluster.checkConsistent();
  const everywhere = await runTwopc(['tx', 'tx-explained', '--nodes', nodes]);
  t.is(everywhere.code, 0, everywhere.stderr);
  t.regex(everywhere.stdout, /\ncommitted everywhere at sequence 1\n$/);
  const as_json = await runTwopc(['tx', 'tx-explained', '--nodes', nodes, '--json']);
  const parsed = JSON.parse(as_json.stdout) as { explanation: string; nodes: { state: string }[] };
  t.is(parsed.explanation, 'committed everywhere at sequence 1');
  t.deepEqual(parsed.nodes.map((node) => node.state), ['COMMITTED', 'COMMITTED', 'COMMITTED']);

  const unknown = await runTwopc(['tx', 'never-submitted', '--nodes', nodes]);
  t.is(unknown.code, 1, 'an id no node has seen is a certain negative answer');
  const invalid = await runTwopc(['tx', 'not an id!', '--nodes', nodes]);
  t.is(invalid.code, 2);
  t.regex(invalid.stderr, /^twopc: bad transaction id/);
  t.regex(unknown.stdout, /no node has seen transaction never-submitted/);

  // The master crashes right after it durably decided: everyone else is left PREPARED.
  const master = await cluster.waitForMaster();
  const others = cluster.addrs.filter((addr) => addr !== master);
  t.is((await cluster.request(master, 'POST', '/debug/failpoints', { name: 'after-decision-persist', action: 'crash' })).status, 200);
  await cluster.request(master, 'POST', '/transactions', { payload: { stuck: true }, transaction_id: 'tx-stuck' }, 5_000).catch(() => undefined);
  await waitFor('the master gone', async () => !cluster.isRunning(master), 10_000);
  const stuck = await runTwopc(['tx', 'tx-stuck', '--nodes', nodes]);
  t.regex(stuck.stdout, new RegExp(`PREPARED on ${others[0]} and ${others[1]}, coordinator ${master} unreachable: waiting for cooperative termination \\(resolves within ~3 s`));
  t.regex(stuck.stdout, /stays in doubt .* until/);

  const one_down = await runTwopc(['tx', 'tx-explained', '--nodes', nodes]);
  t.regex(one_down.stdout, new RegExp(`committed at sequence 1 on ${others[0]} and ${others[1]}; ${master} unreachable \\(it catches up when it returns\\)`));

  // Back again, the coordinator settles it (a decision nobody applied is withdrawn): the
  // explanation says so in one word for every node.
  await cluster.restart(master);
  const settled = await waitFor('tx-stuck settled', async () => {
    const run = await runTwopc(['tx', 'tx-stuck', '--nodes', nodes]);
    return /\n(committed|aborted) everywhere/.test(run.stdout) && run.stdout;
  }, 30_000, 500);
  t.regex(settled, /(COMMITTED|ABORTED)/);
});

/**
 * `twopc start-node --config FILE` as a real process: the file's settings are used, flags
 * override them, relative paths are taken from the file's directory, and anything wrong in
 * the file is one line on stderr and exit 2.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllTwopc, runTwopc, TwopcProcess } from '../helpers/cli-process.ts';
import { findFreePorts } from '../helpers/ports.ts';
import { request } from '../helpers/http.ts';

const dir = mkdtempSync(join(tmpdir(), 'twopc-config-'));
const secret = 'config-file-secret-0123456789abcdefgh';

test.after.always(async () => {
  await killAllTwopc();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

test.serial('a node started from a config file serves at its addr, keeps data under data_dir relative to the file', async (t) => {
  const [port] = await findFreePorts(1);
  const addr = `127.0.0.1:${port}`;
  const config = writeConfig('node.json', { addr, data_dir: 'data-a', log_level: 'warn', failpoints: true });
  const node = new TwopcProcess(['start-node', '--config', config]);
  await node.waitForLine(/serving/);
  t.is((await request(addr, 'GET', '/health')).status, 200);
  t.true(existsSync(join(dir, 'data-a', `127.0.0.1_${port}`)), 'data under the file\'s directory');
  t.is((await request(addr, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'off' })).status, 200, 'failpoints: true from the file');
  node.signal('SIGTERM');
  t.like(await node.exited, { code: 0 });
});

test.serial('flags override the file: --addr and --data-dir win', async (t) => {
  const [file_port, flag_port] = await findFreePorts(2);
  const config = writeConfig('override.json', { addr: `127.0.0.1:${file_port}`, data_dir: 'data-file' });
  const flag_dir = join(dir, 'data-flag');
  const node = new TwopcProcess(['start-node', '--config', config, '--addr', `127.0.0.1:${flag_port}`, '--data-dir', flag_dir]);
  await node.waitForLine(/serving/);
  t.is((await request(`127.0.0.1:${flag_port}`, 'GET', '/health')).status, 200);
  await t.throwsAsync(request(`127.0.0.1:${file_port}`, 'GET', '/health', undefined, 1_000));
  t.true(existsSync(join(flag_dir, `127.0.0.1_${flag_port}`)));
  t.false(existsSync(join(dir, 'data-file')));
  await node.kill();
});

// Requests are signed for the node's name (issue 14 item 10), so the node is named by the
// address the test reaches it at, and listens on every interface through `bind`.
test.serial('a non-loopback bind in the file needs a secret; secret_file in the file provides it', async (t) => {
  const [port] = await findFreePorts(1);
  const refused = await runTwopc(['start-node', '--config', writeConfig('open.json', { addr: `127.0.0.1:${port}`, bind: '0.0.0.0', data_dir: 'data-open' })]);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /^twopc: .*secret/);
  t.is(refused.stderr.trim().split('\n').length, 1);
  writeFileSync(join(dir, 'secret'), `${secret}\n`);
  const config = writeConfig('open-secret.json', { addr: `127.0.0.1:${port}`, bind: '0.0.0.0', data_dir: 'data-open', secret_file: 'secret', peers: [] });
  const node = new TwopcProcess(['start-node', '--config', config]);
  await node.waitForLine(/serving/);
  t.is((await request(`127.0.0.1:${port}`, 'GET', '/health')).status, 401, 'with a secret every request must be signed');
  t.is((await request(`127.0.0.1:${port}`, 'GET', '/health', undefined, 5_000, secret)).status, 200);
  await node.kill();
});

const bad_configs: readonly (readonly [string, unknown, RegExp])[] = [
  ['an unknown key', { addr: '127.0.0.1:1', port: 8081 }, /unknown key "port"/],
  ['peers of the wrong type', { addr: '127.0.0.1:1', peers: 5 }, /"peers" must be a list/],
  ['failpoints as a string', { addr: '127.0.0.1:1', failpoints: 'yes' }, /"failpoints" must be true or false/],
  ['an empty data_dir', { addr: '127.0.0.1:1', data_dir: '' }, /"data_dir" must be a non-empty string/],
  ['a bad log_level', { addr: '127.0.0.1:1', log_level: 'loud' }, /--log-level must be one of/],
  ['a bad addr', { addr: 'nowhere' }, /nowhere/],
  ['not JSON', '{"addr": "127.0.0.1:1",', /not valid JSON/],
  ['a JSON array', '["127.0.0.1:1"]', /must hold a JSON object/],
];

for (const [name, content, reason] of bad_configs) {
  test(`a config file with ${name} exits 2 with one line`, async (t) => {
    const run = await runTwopc(['start-node', '--config', writeConfig(`bad-${name.replace(/\W+/g, '-')}.json`, content)]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, /^twopc: /);
    t.regex(run.stderr, reason);
    t.is(run.stderr.trim().split('\n').length, 1, run.stderr);
  });
}

test('a missing config file exits 2 and names it', async (t) => {
  const run = await runTwopc(['start-node', '--config', join(dir, 'nope.json')]);
  t.is(run.code, 2);
  t.regex(run.stderr, /^twopc: cannot read config file .*nope\.json \(ENOENT\)/);
});

/**
 * The image and the compose file, checked without a container engine (there is none here):
 * the Dockerfile passes a linter (dockerfile-utils) and runs compiled JavaScript; its exact
 * start command (ENTRYPOINT + CMD, with the image's ENV), run here as a process with the
 * image's /app as this checkout and its /data volume as a temporary directory, refuses to
 * start without a node name and without the secret, and with both serves under the name it
 * was given (not 0.0.0.0) while its HEALTHCHECK command, run the same way, says healthy.
 * compose.yaml parses, wires every node the same way, publishes on loopback only, and the
 * recipe in its comments makes a secret twopc accepts.
 */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { parseDocument } from 'yaml';
import { runTwopc, killAllTwopc, cliEnv } from '../helpers/cli-process.ts';
import { request, waitFor } from '../helpers/http.ts';
import { findFreePorts } from '../helpers/ports.ts';
import { readSecret } from '../../lib/cli/secret.ts';
import { parseStartNodeFlags } from '../../lib/cli/start-node.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const compose_text = readFileSync(join(root, 'compose.yaml'), 'utf8');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The Dockerfile's instructions by stage (continuation lines joined, comments dropped). */
function readStages(text: string): readonly (readonly Instruction[])[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

const final_stage = readStages(dockerfile).at(-1)!;
const only = (keyword: string) => final_stage.filter((i) => i.keyword === keyword);
/** An exec-form (JSON array) instruction's words. */
const execForm = (args: string): string[] => JSON.parse(args.replace(/^(--\S+\s+)*CMD\s+/, '')) as string[];
const workdir = only('WORKDIR').at(-1)!.args;
const volume = (JSON.parse(only('VOLUME')[0]!.args) as string[])[0]!;
const image_env: Record<string, string> = Object.fromEntries(
  only('ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
);
const entrypoint = execForm(only('ENTRYPOINT')[0]!.args);
const default_command = execForm(only('CMD')[0]!.args);
const start_command = [...entrypoint, ...default_command];
const healthcheck_command = execForm(only('HEALTHCHECK')[0]!.args);

/** The image's paths on this machine: its WORKDIR is this checkout, its volume `data_dir`. */
function onThisMachine(words: readonly string[], data_dir: string): string[] {
  return words.map((word) => (word === volume ? data_dir : word.startsWith(`${workdir}/`) ? join(root, word.slice(workdir.length + 1)) : word));
}

/** Runs the image's command as the container would (cwd = WORKDIR = this checkout, the image's ENV). */
function runAsImage(words: readonly string[], env: Readonly<Record<string, string>>) {
  const [program, ...args] = words;
  const child = spawn(program === 'node' ? process.execPath : program!, args, { cwd: root, env: cliEnv({ ...image_env, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

let scratch = '';
test.before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'twopc-image-'));
});
test.after.always(async () => {
  await killAllTwopc();
  rmSync(scratch, { recursive: true, force: true });
});

test('the Dockerfile passes the linter and its image runs compiled JavaScript as an unprivileged user', (t) => {
  t.deepEqual(
    validate(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
    [],
  );
  t.false(/\btsx\b/.test(final_stage.map((i) => i.args).join('\n')), 'no tsx in the image that runs');
  // node, its own flags (heap sizes), then the twopc bin.
  t.is(entrypoint[0], 'node');
  t.is(entrypoint.at(-1), 'bin/twopc.mjs');
  t.true(entrypoint.slice(1, -1).every((word) => word.startsWith('--')));
  t.true(readFileSync(join(root, 'bin/twopc.mjs'), 'utf8').includes('dist/cli.js'), 'bin/twopc.mjs runs the compiled CLI');
  t.true(only('COPY').some((i) => /--from=\w+ \/app\/dist/.test(i.args)), 'the image holds dist/');
  t.is(only('USER').at(-1)?.args, 'node');
  t.is(only('HEALTHCHECK').length, 1);
  t.deepEqual(healthcheck_command, ['node', 'bin/twopc.mjs', 'health']);
  // The default command binds every interface of the container, so it takes its name from
  // TWOPC_ADDR and needs the secret; 0.0.0.0 is never a node's name.
  t.false(start_command.some((word) => word.startsWith('0.0.0.0:')));
  t.deepEqual(default_command.slice(0, 3), ['start-node', '--bind', '0.0.0.0']);
});

test.serial("the image's exact start command refuses without a name or a secret, and with both serves and is healthy", async (t) => {
  const data_dir = join(scratch, 'data');
  mkdirSync(data_dir);
  const command = onThisMachine(start_command, data_dir);
  const health = onThisMachine(healthcheck_command, data_dir);
  const [port] = await findFreePorts(1);
  const addr = `127.0.0.1:${port}`;

  // A bare `docker run twopc`: no name to be known by.
  const bare = runAsImage(command, {});
  t.is(await bare.exited, 2);
  t.regex(bare.output().stderr, /--addr HOST:PORT is required \(or env TWOPC_ADDR\)/);

  // A name, no secret: it must not listen on 0.0.0.0.
  const unsafe = runAsImage(command, { TWOPC_ADDR: addr });
  t.is(await unsafe.exited, 2);
  t.regex(unsafe.output().stderr, /binding 0\.0\.0\.0 \(not loopback\) needs a cluster secret/);
  await t.throwsAsync(fetch(`http://${addr}/health`, { signal: AbortSignal.timeout(2_000) }));

  // The secret as compose and Kubernetes hand it over: a file named by TWOPC_SECRET_FILE.
  const secret_file = join(scratch, 'twopc.secret');
  execFileSync('sh', ['-c', `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > '${secret_file}'`]);
  const secret = readSecret(secret_file)!;
  const env = { TWOPC_ADDR: addr, TWOPC_SECRET_FILE: secret_file, TWOPC_LOG_LEVEL: 'warn' };
  const node = runAsImage(command, env);
  try {
    await waitFor('the node to serve', async () => {
      if (node.child.exitCode !== null) throw new Error(`exited: ${node.output().stderr}`);
      return node.output().stdout.includes('serving');
    }, 30_000);
    t.is((await request(addr, 'GET', '/health', undefined, 2_000)).status, 401, 'unsigned requests are refused');
    const role = await request(addr, 'GET', '/role', undefined, 2_000, secret);
    t.is(role.body.addr, addr, 'known by TWOPC_ADDR, not by the address it binds');
    t.deepEqual(role.body.nodes.map((n: { addr: string }) => n.addr), [addr]);
    t.true(existsSync(join(data_dir, `127.0.0.1_${port}`)), 'its files are in the volume');
    // The HEALTHCHECK, as the container engine runs it.
    await waitFor('healthy', async () => {
      const probe = runAsImage(health, env);
      return (await probe.exited) === 0;
    }, 30_000, 250);
    const probe = runAsImage(health, { ...env, TWOPC_SECRET_FILE: '' });
    t.is(await probe.exited, 1, 'without the secret the probe is refused: unhealthy');
    t.regex(probe.output().stderr, /not serving: request is not signed/);
  } finally {
    node.child.kill('SIGTERM');
    t.is(await node.exited, 0);
  }
});

test('compose.yaml parses, and runs every node the same way, known by its service name, with the secret', (t) => {
  const doc = parseDocument(compose_text, { merge: true });
  t.deepEqual(doc.errors.map(String), []);
  t.deepEqual(doc.warnings.map(String), []);
  const compose = doc.toJS({ maxAliasCount: 100 }) as any;
  const node_names = Object.keys(compose.services).filter((name) => name.startsWith('node'));
  t.deepEqual(node_names, ['node1', 'node2', 'node3']);
  const addrs = node_names.map((name) => `${name}:8081`);
  for (const name of node_names) {
    const service = compose.services[name];
    const addr = `${name}:8081`;
    t.is(service.environment.TWOPC_ADDR, addr);
    t.is(service.environment.TWOPC_SECRET_FILE, '/run/secrets/twopc_secret');
    t.deepEqual(service.secrets, ['twopc_secret']);
    t.deepEqual(service.volumes, [`${name}-data:/data`]);
    t.true(service.build !== undefined && service.image === 'twopc:latest');
    // The command is one the CLI accepts, with this service's environment.
    const flags = Object.fromEntries(
      (service.command as string[]).slice(1).join(' ').split(/\s+--/).map((part: string) => part.replace(/^--/, '').split(' ')),
    ) as Record<string, string>;
    t.is(service.command[0], 'start-node');
    const parsed = parseStartNodeFlags(
      { bind: flags['bind'], dataDir: flags['data-dir'], peers: flags['peers'] },
      { TWOPC_ADDR: service.environment.TWOPC_ADDR, TWOPC_SECRET: 'x'.repeat(32) },
    );
    t.is(parsed.addr, addr);
    t.is(parsed.bind, '0.0.0.0');
    t.deepEqual([...parsed.peers].sort(), addrs.filter((other) => other !== addr));
  }
  const dashboard = compose.services.dashboard;
  t.is(dashboard.command[0], 'dashboard');
  t.true(dashboard.command.join(' ').includes(`--nodes ${addrs.join(',')}`));
  t.is(dashboard.environment.TWOPC_SECRET_FILE, '/run/secrets/twopc_secret');
  // Published only on the host's loopback.
  const published = Object.values(compose.services).flatMap((service: any) => service.ports ?? []);
  t.true(published.length >= 2);
  for (const port of published) t.regex(String(port), /^127\.0\.0\.1:/);
  t.is(compose.secrets.twopc_secret.file, './deploy/twopc.secret');
  t.regex(readFileSync(join(root, 'deploy/.gitignore'), 'utf8'), /^twopc\.secret$/m, 'the secret file is never committed');
});

test.serial("compose's dashboard command, run as its container runs it, serves the page and warns that it is not on loopback", async (t) => {
  const compose = parseDocument(compose_text, { merge: true }).toJS() as any;
  const [port] = await findFreePorts(1);
  const published = String(compose.services.dashboard.ports[0]);
  const container_port = published.split(':').at(-1)!;
  t.is(published, `127.0.0.1:${container_port}:${container_port}`, 'the same port inside and out, so the browser\'s Host matches');
  const args = (compose.services.dashboard.command as string[]).map((word) => (word === container_port ? String(port) : word));
  const secret_file = join(scratch, 'dashboard.secret');
  execFileSync('sh', ['-c', `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > '${secret_file}'`]);
  const dashboard = runAsImage([...entrypoint, ...args], { TWOPC_SECRET_FILE: secret_file });
  try {
    await waitFor('the dashboard to listen', async () => {
      if (dashboard.child.exitCode !== null) throw new Error(`exited: ${dashboard.output().stderr}`);
      return dashboard.output().stdout.includes('twopc dashboard on');
    }, 20_000);
    const page = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
    t.is(page.status, 200);
    t.regex(await page.text(), /<title>twopc dashboard<\/title>/);
    t.regex(dashboard.output().stderr, /not loopback/);
  } finally {
    dashboard.child.kill('SIGTERM');
    t.is(await dashboard.exited, 0);
  }
});

test("compose.yaml's comment says how to make the secret file, and what it makes is a secret twopc accepts", (t) => {
  const recipe = compose_text
    .split('\n')
    .filter((line) => /^#\s+(head|chmod) .*deploy\/twopc\.secret/.test(line))
    .map((line) => line.replace(/^#\s+/, ''));
  t.is(recipe.length, 2, 'the head … and chmod lines');
  const dir = join(scratch, 'compose');
  mkdirSync(join(dir, 'deploy'), { recursive: true });
  execFileSync('sh', ['-c', recipe.join('\n')], { cwd: dir });
  const secret = readSecret(join(dir, 'deploy/twopc.secret'));
  t.is(secret?.length, 64);
  t.regex(secret ?? '', /^[0-9a-f]{64}$/);
});

test('twopc health exits 2 when nothing answers', async (t) => {
  const [port] = await findFreePorts(1);
  const run = await runTwopc(['health', '--node', `127.0.0.1:${port}`]);
  t.is(run.code, 2);
  t.regex(run.stderr, /did not answer/);
});

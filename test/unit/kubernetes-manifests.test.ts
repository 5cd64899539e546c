/**
 * deploy/kubernetes/, checked without a cluster (none runs here): every object validates
 * against the Kubernetes API schemas (kubernetes-models), and the objects fit together the
 * way twopc needs: stable pod names as node addresses that the CLI accepts, one volume per
 * pod, the secret from a Secret, readiness that signs its /health, a PodDisruptionBudget that
 * keeps a majority, and a headless Service that publishes names before pods are ready.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseStartNodeFlags } from '../../lib/cli/start-node.ts';
import { readSecret } from '../../lib/cli/secret.ts';

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const read = (file: string) => readFileSync(join(dir, file), 'utf8');

/** Every YAML document of every manifest in the folder, with its file. */
function readObjects(): readonly { readonly file: string; readonly object: any }[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(read(file)).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.join('; ')}`);
        return { file, object: doc.toJS() };
      }),
    );
}

const models: Readonly<Record<string, new (data: any) => { validate(): void }>> = {
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const objects = readObjects();
const one = (kind: string) => {
  const found = objects.filter(({ object }) => object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!.object;
};

test('every object validates against its Kubernetes schema, and kustomize lists every file', (t) => {
  t.deepEqual(objects.map(({ object }) => object.kind).sort(), ['PodDisruptionBudget', 'Service', 'StatefulSet']);
  for (const { file, object } of objects) {
    const Model = models[`${object.apiVersion}/${object.kind}`];
    if (Model === undefined) return t.fail(`${file}: no model for ${object.apiVersion} ${object.kind}`);
    t.notThrows(() => new Model(object).validate(), `${file}: ${object.kind} ${object.metadata?.name}`);
  }
  const kustomization = parseAllDocuments(read('kustomization.yaml'))[0]!.toJS();
  t.deepEqual([...kustomization.resources].sort(), [...new Set(objects.map(({ file }) => file))].sort());
  // The schemas catch what is wrong: a mistyped field fails.
  const broken = structuredClone(one('StatefulSet'));
  broken.spec.replicas = 'three';
  t.throws(() => new StatefulSet(broken).validate());
});

test('the pods are nodes known by their stable names, each listed in --peers, with the flags the CLI accepts', (t) => {
  const set = one('StatefulSet');
  const service = one('Service');
  const replicas: number = set.spec.replicas;
  t.is(set.spec.serviceName, service.metadata.name);
  const container = set.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
  t.is(env.POD_NAME.valueFrom.fieldRef.fieldPath, 'metadata.name');
  const names = Array.from({ length: replicas }, (_, i) => `${set.metadata.name}-${i}`);
  const addrs = names.map((pod) => env.TWOPC_ADDR.value.replace('$(POD_NAME)', pod));
  t.deepEqual(addrs, names.map((pod) => `${pod}.${service.metadata.name}:8081`));
  const args: string[] = container.args;
  t.is(args[0], 'start-node');
  const flag = (name: string) => args[args.indexOf(name) + 1];
  for (const [i, addr] of addrs.entries()) {
    // What the pod's start-node makes of its arguments, with its own TWOPC_ADDR.
    const parsed = parseStartNodeFlags(
      { bind: flag('--bind'), dataDir: flag('--data-dir'), peers: flag('--peers') },
      { TWOPC_ADDR: addr, TWOPC_SECRET: 'x'.repeat(32) },
    );
    t.is(parsed.addr, addr);
    t.is(parsed.bind, '0.0.0.0');
    t.deepEqual([...parsed.peers].sort(), addrs.filter((_, j) => j !== i), 'every other pod is a peer');
  }
  t.is(container.ports[0].containerPort, 8081);
  t.is(service.spec.ports[0].port, 8081);
});

test('each pod has its own volume at the data directory, and the secret comes from a Secret', (t) => {
  const set = one('StatefulSet');
  const pod = set.spec.template.spec;
  const container = pod.containers[0];
  const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.name, m]));
  const claim = set.spec.volumeClaimTemplates[0];
  t.is(mounts[claim.metadata.name].mountPath, '/data');
  t.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
  t.true(container.args.includes('/data'));
  const secret_volume = pod.volumes.find((v: any) => v.secret !== undefined);
  t.is(secret_volume.secret.secretName, 'twopc-secret');
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
  t.is(env.TWOPC_SECRET_FILE, `${mounts[secret_volume.name].mountPath}/secret`, 'the file the Secret\'s key "secret" becomes');
  t.true(mounts[secret_volume.name].readOnly);
  t.is(pod.securityContext.fsGroup, 1000, "the image's node user reads the secret and owns the volume");
  t.is(secret_volume.secret.defaultMode, 0o440);
});

test('the Secret the kustomization generates holds what the documented recipe makes, a secret twopc accepts', (t) => {
  const kustomization = parseAllDocuments(read('kustomization.yaml'))[0]!.toJS();
  const generator = kustomization.secretGenerator[0];
  t.is(generator.name, 'twopc-secret');
  t.deepEqual(generator.files, ['secret=twopc.secret']);
  t.true(kustomization.generatorOptions.disableNameSuffixHash, 'the StatefulSet names the Secret as generated');
  const recipe = read('kustomization.yaml')
    .split('\n')
    .find((line) => /^#\s+head .*twopc\.secret$/.test(line))!
    .replace(/^#\s+/, '');
  const scratch = mkdtempSync(join(tmpdir(), 'twopc-k8s-'));
  try {
    copyFileSync(join(dir, 'kustomization.yaml'), join(scratch, 'kustomization.yaml'));
    execFileSync('sh', ['-c', recipe.replace('deploy/kubernetes/', '')], { cwd: scratch });
    t.regex(readSecret(join(scratch, 'twopc.secret')) ?? '', /^[0-9a-f]{64}$/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  t.regex(readFileSync(join(dir, '..', '.gitignore'), 'utf8'), /^twopc\.secret$/m, 'git ignores deploy/**/twopc.secret');
});

test('ready means serving, asked with a signed request; the disruption budget keeps a majority; names exist before readiness', (t) => {
  const set = one('StatefulSet');
  const container = set.spec.template.spec.containers[0];
  t.deepEqual(container.readinessProbe.exec.command, ['node', 'bin/twopc.mjs', 'health']);
  t.is(container.readinessProbe.httpGet, undefined, 'an httpGet probe cannot sign: it would get 401 under the secret');
  const service = one('Service');
  t.is(service.spec.clusterIP, 'None');
  t.true(service.spec.publishNotReadyAddresses, 'a node catching up must be reachable by its peers');
  const labels = set.spec.template.metadata.labels;
  for (const selector of [set.spec.selector.matchLabels, service.spec.selector, one('PodDisruptionBudget').spec.selector.matchLabels]) {
    t.true(Object.entries(selector).every(([key, value]) => labels[key] === value));
  }
  // Kubernetes rounds a percentage minAvailable up: a majority for every cluster size.
  const min_available: string = one('PodDisruptionBudget').spec.minAvailable;
  const percent = Number(/^(\d+)%$/.exec(min_available)?.[1]);
  for (const replicas of [set.spec.replicas, 1, 2, 3, 4, 5, 6, 7, 9]) {
    t.is(Math.ceil((percent / 100) * replicas), Math.floor(replicas / 2) + 1, `${replicas} replicas`);
  }
});

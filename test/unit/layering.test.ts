/**
 * The layers only import downward. Read from the import lines of the source itself:
 * lib/protocol (the wire) < lib/two-phase-commit, lib/cluster (the pure decisions) <
 * lib/node (the services, which reach the world only through interfaces) < lib/storage's
 * SQLite classes, lib/transport < lib/boot (where a node is assembled: SQLite, HTTP, pino,
 * Prometheus, real time) < lib/cli, lib/supervisor, workers/.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface ImportLine {
  readonly file: string;
  /** What the line names: a path relative to the repository root, or a package. */
  readonly target: string;
  readonly type_only: boolean;
  readonly names: readonly string[];
}

/** Every static import and re-export of a TypeScript file, and every `import('…')` type. */
function readImports(file: string): readonly ImportLine[] {
  const text = readFileSync(join(root, file), 'utf8');
  const lines: ImportLine[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?([\s\S]*?)\s*from\s+['"]([^'"]+)['"]/gm)) {
    const clause = match[2] ?? '';
    const braces = /\{([\s\S]*)\}/.exec(clause);
    const specifiers = braces?.[1]?.split(',').map((part) => part.trim()).filter((part) => part !== '') ?? [];
    // A default or namespace import (`x`, `* as x`) outside the braces brings a value.
    const outside = clause.replace(/\{[\s\S]*\}/, '').replace(/[\s,]/g, '');
    lines.push({
      file,
      target: locate(file, match[3] ?? ''),
      type_only: match[1] !== undefined || (outside === '' && specifiers.length > 0 && specifiers.every((part) => part.startsWith('type '))),
      names: specifiers.map((part) => part.replace(/^type\s+/, '').split(/\s+as\s+/)[0] ?? part),
    });
  }
  for (const match of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) lines.push({ file, target: locate(file, match[1] ?? ''), type_only: false, names: [] });
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) lines.push({ file, target: locate(file, match[1] ?? ''), type_only: true, names: [] });
  return lines;
}

function locate(file: string, specifier: string): string {
  return specifier.startsWith('.') ? relative(root, resolve(root, dirname(file), specifier)) : specifier;
}

function listSources(dir: string): readonly string[] {
  return readdirSync(join(root, dir))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `${dir}/${name}`);
}

/** The classes a file exports (what a layer below may not hold on to). */
function listExportedClasses(file: string): ReadonlySet<string> {
  const text = readFileSync(join(root, file), 'utf8');
  return new Set([...text.matchAll(/^export\s+(?:abstract\s+)?class\s+([\w$]+)/gm)].map((match) => match[1] ?? ''));
}

const inside = (target: string, ...dirs: readonly string[]) => dirs.some((dir) => target.startsWith(`${dir}/`));

/** Why `line` breaks its layer's rule, or undefined when it keeps it. */
type Rule = (line: ImportLine) => string | undefined;

const pure_core: Rule = (line) =>
  inside(line.target, 'lib/two-phase-commit', 'lib/cluster', 'lib/protocol', 'lib/util') ? undefined : 'the pure core imports only lib/protocol, lib/util and itself';

const rules: Readonly<Record<string, Rule>> = {
  // What `import { connect } from 'twopc'` loads: light, never the node stack.
  'lib/client': (line) =>
    inside(line.target, 'lib/client', 'lib/protocol') || line.target === 'lib/security/signature.ts' || line.target === 'valibot' || line.target.startsWith('node:')
      ? undefined
      : 'lib/client imports only itself, lib/protocol, lib/security/signature.ts, valibot and node: builtins',
  'lib/protocol': (line) => (inside(line.target, 'lib/protocol') || line.target === 'valibot' ? undefined : 'lib/protocol imports only itself and valibot'),
  'lib/two-phase-commit': pure_core,
  'lib/cluster': pure_core,
  'lib/node': (line) => {
    if (inside(line.target, 'lib/node', 'lib/two-phase-commit', 'lib/cluster', 'lib/protocol', 'lib/util', 'lib/time')) return undefined;
    if (inside(line.target, 'lib/storage')) {
      if (!line.type_only) return 'lib/node takes its stores as interfaces: import type only';
      const classes = listExportedClasses(line.target);
      const held = line.names.filter((name) => classes.has(name));
      return held.length === 0 ? undefined : `lib/node may not name lib/storage's concrete classes (${held.join(', ')})`;
    }
    return 'lib/node imports only lib/{node,two-phase-commit,cluster,protocol,util,time} and the interfaces of lib/storage: it reaches the world through its seams';
  },
};

for (const [dir, rule] of Object.entries(rules)) {
  test(`${dir} imports only downward`, (t) => {
    const lines = listSources(dir).flatMap(readImports);
    t.true(lines.length > 0, `no imports read in ${dir}`);
    const broken = lines.flatMap((line) => {
      const reason = rule(line);
      return reason === undefined ? [] : [`${line.file} imports ${line.target}: ${reason}`];
    });
    t.deepEqual(broken, []);
  });
}

test('the import reader sees what a layer must not do', (t) => {
  const node = rules['lib/node'];
  t.not(node, undefined);
  const check = (line: Omit<ImportLine, 'file'>) => node?.({ file: 'lib/node/x.ts', ...line });
  t.regex(check({ target: 'lib/transport/http-client.ts', type_only: true, names: ['PeerClient'] }) ?? '', /imports only/);
  t.regex(check({ target: 'lib/storage/participant-log.ts', type_only: true, names: ['ParticipantLog'] }) ?? '', /concrete classes/);
  t.regex(check({ target: 'lib/storage/participant-log.ts', type_only: false, names: ['ParticipantRecord'] }) ?? '', /import type only/);
  t.is(check({ target: 'lib/storage/participant-log.ts', type_only: true, names: ['ParticipantRecord', 'ParticipantWrites'] }), undefined);
  t.regex(check({ target: 'pino', type_only: false, names: ['pino'] }) ?? '', /imports only/);
  t.regex(check({ target: 'node:crypto', type_only: false, names: ['randomUUID'] }) ?? '', /imports only/);
  const [parsed] = readImports('lib/node/context.ts').filter((line) => line.target === 'lib/node/options.ts');
  t.deepEqual(parsed, { file: 'lib/node/context.ts', target: 'lib/node/options.ts', type_only: true, names: ['NodeLimits'] });
});

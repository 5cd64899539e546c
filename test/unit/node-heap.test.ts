/** Every place a node starts uses the one heap setting of lib/util/node-heap.ts. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { node_heap_args, node_malloc_env, node_old_space_max_mb, node_semi_space_max_mb, node_thread_resource_limits } from '../../lib/util/node-heap.ts';

const root = new URL('../../', import.meta.url);
const flags = [`--max-semi-space-size=${node_semi_space_max_mb}`, `--max-old-space-size=${node_old_space_max_mb}`];

test('the bin starts the commands that run nodes with the node heap flags, every command with the malloc settings; so does the Dockerfile\'s entrypoint', (t) => {
  const malloc = Object.entries(node_malloc_env).map(([name, value]) => `${name}=${value}`);
  const [shebang, environment, launch] = readFileSync(new URL('bin/twopc.mjs', root), 'utf8').split('\n');
  t.is(shebang, '#!/bin/sh');
  t.is(environment, `":" //; unset NODE_EXTRA_CA_CERTS; export ${malloc.join(' ')}`);
  t.is(launch, `":" //; for arg do case $arg in start-node|cluster) exec node ${flags.join(' ')} "$0" "$@";; esac; done; exec node "$0" "$@"`);
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
  for (const setting of malloc) t.true(dockerfile.includes(`    ${setting}`), `the Dockerfile's ENV sets ${setting}`);
  t.true(dockerfile.includes(`ENTRYPOINT ["node", ${flags.map((flag) => `"${flag}"`).join(', ')}, "bin/twopc.mjs"]`));
});

test('node processes and node threads get the same young and old generations', (t) => {
  t.deepEqual(node_heap_args, flags);
  t.is(node_thread_resource_limits.maxYoungGenerationSizeMb, 3 * node_semi_space_max_mb);
  t.is(node_thread_resource_limits.maxOldGenerationSizeMb, node_old_space_max_mb);
});

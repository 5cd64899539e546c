/** Every place a node starts uses the one heap setting of lib/util/node-heap.ts. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { node_heap_args, node_malloc_env, node_semi_space_max_mb, node_thread_resource_limits } from '../../lib/util/node-heap.ts';

const root = new URL('../../', import.meta.url);
const flag = `--max-semi-space-size=${node_semi_space_max_mb}`;

test('the bin\'s shebang and the Dockerfile\'s entrypoint pass the node heap flag', (t) => {
  const malloc = Object.entries(node_malloc_env).map(([name, value]) => `${name}=${value}`);
  t.is(readFileSync(new URL('bin/twopc.mjs', root), 'utf8').split('\n')[0], `#!/usr/bin/env -S ${malloc.join(' ')} node ${flag}`);
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
  for (const setting of malloc) t.true(dockerfile.includes(`    ${setting}`), `the Dockerfile's ENV sets ${setting}`);
  t.true(readFileSync(new URL('Dockerfile', root), 'utf8').includes(`ENTRYPOINT ["node", "${flag}", "bin/twopc.mjs"]`));
});

test('node processes and node threads get the same young generation', (t) => {
  t.deepEqual(node_heap_args, [flag]);
  t.is(node_thread_resource_limits.maxYoungGenerationSizeMb, 3 * node_semi_space_max_mb);
});

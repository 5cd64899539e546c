#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=1048576 node --max-semi-space-size=2 --max-old-space-size=1024
// The `twopc` command: runs the compiled CLI in dist/ (`npm ci` builds it through the `prepare`
// script; `npm run build` after editing the sources; the tests build before they run).
// The shebang's heap flags are node_heap_args of lib/util/node-heap.ts, its malloc settings
// node_malloc_env there (keep them equal). Any V8 flag costs every command the code cache of
// Node's built-in modules (`twopc commit` takes 1.07× the CPU with them), but a node started by
// hand through this bin needs them (bench/README.md).
import { existsSync } from 'node:fs';

const compiled_cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(compiled_cli)) {
  process.stderr.write('twopc: not built: run `npm run build` (npm ci runs it) in the package directory\n');
  process.exit(2);
}
await import(compiled_cli.href);

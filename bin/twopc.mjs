#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=1048576 node --max-semi-space-size=2 --max-old-space-size=1024
// The `twopc` command: runs the compiled CLI in dist/ (`npm ci` builds it through the `prepare`
// script; `npm run build` after editing the sources; the tests build before they run).
// The shebang's heap flags are node_heap_args of lib/util/node-heap.ts, its malloc settings
// node_malloc_env there (keep them equal). Any V8 flag costs every command the code cache of
// Node's built-in modules (`twopc commit` takes 1.07× the CPU with them), but a node started by
// hand through this bin needs them (bench/README.md).
// `-u NODE_EXTRA_CA_CERTS`: Node 20 reads and parses that file of CA certificates when the
// process starts, before any JavaScript runs, whether or not it ever opens a TLS connection;
// twopc's processes speak plain HTTP only (TLS, where wanted, is a proxy's), and with a
// system's whole bundle named there (about 140 certificates) every command paid 50–70 ms of
// CPU for it (`node -e 0`: 0.104 s → 0.037 s wall).
import { existsSync } from 'node:fs';

const compiled_cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(compiled_cli)) {
  process.stderr.write('twopc: not built: run `npm run build` (npm ci runs it) in the package directory\n');
  process.exit(2);
}
await import(compiled_cli.href);

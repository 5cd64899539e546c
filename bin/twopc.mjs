#!/bin/sh
":" //; unset NODE_EXTRA_CA_CERTS; export MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=1048576
":" //; for arg do case $arg in start-node|cluster) exec node --max-semi-space-size=2 --max-old-space-size=1024 "$0" "$@";; esac; done; exec node "$0" "$@"
// The `twopc` command: runs the compiled CLI in dist/ (`npm ci` builds it through the `prepare`
// script; `npm run build` after editing the sources; the tests build before they run).
// The two lines above are shell (JavaScript reads each as a string and a comment): /bin/sh
// starts node in its own place (exec: one process, the pid a caller started), with
// - node's heap flags (node_heap_args of lib/util/node-heap.ts) only when an argument is
//   `start-node` or `cluster`, the commands that run nodes: any V8 flag on the command line
//   makes Node 20 refuse the code cache of its built-in modules, which cost every client
//   command (`twopc commit`: 0.81x the CPU without them), while a node started by hand
//   through this bin needs them (bench/README.md "Runtime footprint"). An argument that
//   merely equals one of those words (`twopc get cluster`) costs that command the cache, no more.
// - glibc's malloc settings, node_malloc_env there (keep them equal);
// - without NODE_EXTRA_CA_CERTS: Node 20 reads and parses the file it names when the process
//   starts, before any JavaScript runs, whether or not the process ever opens a TLS
//   connection; twopc's processes speak plain HTTP only (TLS, where wanted, is a proxy's), and
//   with a system's whole bundle named there (144 certificates) every command paid 50–70 ms
//   of CPU for it (`node -e 0`: 0.104 s → 0.037 s wall).
import { existsSync } from 'node:fs';

const compiled_cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(compiled_cli)) {
  process.stderr.write('twopc: not built: run `npm run build` (npm ci runs it) in the package directory\n');
  process.exit(2);
}
await import(compiled_cli.href);

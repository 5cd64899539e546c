#!/usr/bin/env node
// The `twopc` command: runs the compiled CLI in dist/ (`npm ci` builds it through the `prepare`
// script; `npm run build` after editing the sources; the tests build before they run).
import { existsSync } from 'node:fs';

const compiled_cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(compiled_cli)) {
  process.stderr.write('twopc: not built: run `npm run build` (npm ci runs it) in the package directory\n');
  process.exit(2);
}
await import(compiled_cli.href);

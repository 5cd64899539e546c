#!/usr/bin/env node
// The `twopc` command: load the TypeScript sources through tsx, then run the CLI.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../cli.ts', import.meta.url).href);

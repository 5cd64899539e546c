/**
 * listhen's `listen`, without loading the parts of listhen a node never runs. listhen's bundle
 * requires node-forge (self-signed HTTPS certificates) and consola (its coloured console and
 * URL banner) when it loads, whatever the options; a node listens on plain HTTP with every
 * banner off. Measured in a Node 20 process that had already loaded the node's other modules:
 * node-forge +1.5 MB of RSS and 41 ms of CPU, consola +3.2 MB and 37 ms (bench/README.md,
 * issue 12). So listhen is loaded through its CommonJS build with both answered by small
 * stand-ins placed in the require cache for listhen's own resolution of them: asked for an
 * HTTPS certificate, the stand-in throws; a warning listhen prints goes to `process.emitWarning`.
 * Anything else in this process that requires those files gets the same stand-ins: nothing in
 * a node does.
 */
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import type * as Listhen from 'listhen';

const require = createRequire(import.meta.url);

function placeStandIn(request: string, from: string, exports: unknown): void {
  const file = require.resolve(request, { paths: [from] });
  if (require.cache[file] !== undefined) return;
  const module = new Module(file);
  module.filename = file;
  module.loaded = true;
  module.exports = exports;
  require.cache[file] = module;
}

function refuse(what: string): never {
  throw new Error(`twopc: listhen's ${what} is not loaded in a node (plain HTTP only)`);
}

const warn = (...args: unknown[]) => process.emitWarning(args.map(String).join(' '), 'listhen');
const consola_stand_in = { warn, info: warn, log: warn, error: warn, success: warn, withTag: () => consola_stand_in };

function loadListhen(): typeof Listhen {
  const listhen_dir = dirname(require.resolve('listhen'));
  placeStandIn('node-forge', listhen_dir, new Proxy({}, { get: (_target, name) => (name === '__esModule' ? false : refuse(`node-forge (${String(name)})`)) }));
  placeStandIn('consola', listhen_dir, { consola: consola_stand_in, default: consola_stand_in, createConsola: () => consola_stand_in });
  placeStandIn('consola/utils', listhen_dir, new Proxy({}, { get: (_target, name) => (name === '__esModule' ? false : refuse(`consola/utils (${String(name)})`)) }));
  return require('listhen') as typeof Listhen;
}

export const { listen } = loadListhen();

/**
 * undici's Pool and its `request`, loaded without the rest of undici. The package's index
 * requires every dispatcher, interceptor, mock, cache and fetch/WebSocket module up front:
 * measured in an empty Node 20 process, `import 'undici'` adds 17 MB of RSS and these
 * modules alone 9 MB (issue 12, bench/README.md "Runtime footprint"). A node needs only a
 * Pool to each peer. The index attaches the request API to Dispatcher.prototype
 * (`Object.assign(Dispatcher.prototype, api)`); this does the same for `request` alone.
 * The types are undici's own.
 */
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

const Dispatcher = require('undici/lib/dispatcher/dispatcher') as { prototype: { request?: unknown } };
Dispatcher.prototype.request ??= require('undici/lib/api/api-request') as unknown;

export const Pool = require('undici/lib/dispatcher/pool') as typeof UndiciPool;
export type Pool = UndiciPool;

/**
 * prom-client's Registry, Counter, Gauge and Histogram, loaded without the rest of prom-client.
 * Its index also loads the default process metrics (which require @opentelemetry/api, 51
 * modules), the Pushgateway (node:http/https) and the cluster aggregator: measured in an empty
 * Node 20 process, `require('prom-client')` adds 8.9 MB of RSS and these four modules 0.8 MB
 * (issue 12, bench/README.md "Runtime footprint"). A node uses only these four. The types are
 * prom-client's own.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export type Registry = PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;

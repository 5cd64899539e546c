// Only when running the TypeScript sources (tests, in-process clusters): Piscina loads this file
// in each worker thread. On Node 20 the tsx loader registered in the main thread does not reach
// worker threads, so register it here before loading the TypeScript. The compiled build loads
// dist/workers/node-worker.js instead (lib/util/package-root.ts chooses).
import { register } from 'tsx/esm/api';

register();
const mod = await import('./node-worker.ts');

export default mod.default;

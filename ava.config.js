// Tests run TypeScript through tsx; each file gets its own process so node
// processes, ports and SQLite files never leak between files.
//
// The `twopc` processes the tests spawn run the compiled build (dist/), what a user runs, so
// ava builds first: a source change is always what the tests see, with or without `npm test`.
// The build is incremental: about 3 s when nothing changed.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: new URL('.', import.meta.url) });

export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx/esm'],
  timeout: '5m',
  concurrency: 2,
  workerThreads: false,
};

// Tests run TypeScript through tsx; each file gets its own process so node
// processes, ports and SQLite files never leak between files.
export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx/esm'],
  timeout: '5m',
  concurrency: 2,
  workerThreads: false,
};

/**
 * Where the package's files are, seen from the code that is running. The compiled build
 * (dist/, what `twopc` runs) and the TypeScript sources (tests and `npm run sim`, through tsx)
 * have the same layout under different roots; a file that starts another entry point starts
 * the one of its own kind, so sources never run against a stale build or the reverse.
 */
import { fileURLToPath } from 'node:url';

/** True when this is dist/…/*.js; false for the .ts sources run through tsx. */
export const running_compiled: boolean = import.meta.url.endsWith('.js');

/** The repository (or installed package) root: package.json, bin/, dist/. */
export const package_root: URL = new URL(running_compiled ? '../../../' : '../../', import.meta.url);

/** The root of the running code: package_root itself for the sources, package_root/dist/ compiled. */
const code_root: URL = new URL('../../', import.meta.url);

/** `bin/twopc.mjs`, the command every spawned `twopc` process runs (the compiled CLI). */
export const twopc_bin: string = fileURLToPath(new URL('bin/twopc.mjs', package_root));

/**
 * `node` arguments that run the entry point `path` (relative to the code root, no extension):
 * the compiled file, or the .ts source with tsx registered when the sources are running.
 */
export function entryArgs(path: string): readonly string[] {
  if (running_compiled) return [fileURLToPath(new URL(`${path}.js`, code_root))];
  return ['--import', import.meta.resolve('tsx/esm'), fileURLToPath(new URL(`${path}.ts`, code_root))];
}

/** The file of a worker-thread entry point `path` (relative to the code root, no extension). */
export function workerFile(path: string): string {
  // Sources: the .mjs shim next to the .ts registers tsx inside the thread (Node 20's loader hooks
  // registered in the main thread do not reach worker threads).
  return fileURLToPath(new URL(`${path}${running_compiled ? '.js' : '.mjs'}`, code_root));
}

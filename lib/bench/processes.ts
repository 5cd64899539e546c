/**
 * The baseline server a benchmark run starts next to the cluster (whose nodes come from
 * lib/process-cluster): a child of this process with its own pid, for RSS readings, killed
 * when this process exits, whatever happened.
 */
import { OwnedProcess } from '../process-cluster/owned-process.ts';
import { entryArgs } from '../util/package-root.ts';

/** Output kept for error messages, in characters. */
const output_kept_chars = 4_000;

/** The environment for the baseline: ours, without stray cluster settings. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('TWOPC_')) env[name] = value;
  }
  return env;
}

/** lib/bench/baseline-server as its own process (compiled, or the source through tsx). */
export function spawnBaseline(port: number, data_dir: string): OwnedProcess {
  return new OwnedProcess({ args: [...entryArgs('lib/bench/baseline-server'), String(port), data_dir], env: childEnv(), output_kept_chars });
}

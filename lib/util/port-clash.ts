/**
 * The race `findFreePorts` (free-ports.ts) cannot close: a port is free when it is checked
 * and taken before the process it was picked for binds it (another test, chaos or bench run
 * on the same machine picks from the same range). That process then fails loudly at
 * start-up ("address already in use", its contract), and a launcher of processes on free
 * ports (lib/process-cluster, the bench's baseline, etcd, PostgreSQL) starts them again on
 * newly picked ports instead of failing the whole run, a bounded number of times.
 */

/** Starts on newly picked ports after a port clash, the first start included. */
export const port_clash_attempts_max = 3;

/**
 * Did a start fail because a port was taken at bind? Read from the error's text, which
 * carries what the process printed: a node's `cannot listen on …: address already in use`,
 * etcd's `bind: address already in use`, PostgreSQL's `Address already in use`, Node's
 * `listen EADDRINUSE`, listhen's `Unable to find an available port` (the bench's baseline).
 */
export function isPortClash(error: unknown): boolean {
  return /address already in use|EADDRINUSE|Unable to find an available port/i.test(error instanceof Error ? error.message : String(error));
}

/**
 * `start(attempt)` (attempt counts from 1) until it does not fail with a port clash: each
 * call must pick its ports afresh and leave nothing running when it throws. Any other error,
 * or a clash on the last of `attempts_max` attempts, is thrown; `on_clash` hears of each
 * clash that is retried.
 */
export async function retryOnPortClash<T>(start: (attempt: number) => Promise<T>, on_clash: (error: unknown, attempt: number) => void = () => {}, attempts_max = port_clash_attempts_max): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start(attempt);
    } catch (error) {
      if (!isPortClash(error)) throw error;
      if (attempt >= attempts_max) throw new Error(`a port was taken at start-up on each of ${attempts_max} attempts, each on newly picked ports; the last time: ${error instanceof Error ? error.message : String(error)}`);
      on_clash(error, attempt);
    }
  }
}

/** An `on_clash` that tells `note` the start is tried again. */
export function noteRetry(note: (text: string) => void): (error: unknown, attempt: number) => void {
  return (_, attempt) => note(`a port was taken at start-up (attempt ${attempt} of ${port_clash_attempts_max}): starting again on new ports`);
}

/** Signals that ask a long-running command to stop cleanly. */
const shutdown_signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
/** Exit code when a second signal arrives while stopping: the user insists. */
export const forced_exit_code = 130;
/**
 * A repeat of the first signal this soon is the same Ctrl-C arriving twice, not the user
 * insisting: the terminal sends SIGINT to the whole process group, and a wrapper such as
 * `npx` (npm exec) forwards its own copy to us as well.
 */
export const repeated_signal_window_ms = 1_000;

/**
 * Resolves on the first SIGINT/SIGTERM. A second one while the caller is still shutting down
 * exits at once with 130, unless it is the same signal within `repeated_signal_window_ms`.
 */
export function onShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: { readonly signal: NodeJS.Signals; readonly at_ms: number } | undefined;
    const handler = (signal: NodeJS.Signals): void => {
      if (first !== undefined) {
        if (isEcho(first, signal, performance.now())) return;
        process.exit(forced_exit_code);
      }
      first = { signal, at_ms: performance.now() };
      resolve(signal);
    };
    for (const signal of shutdown_signals) process.on(signal, handler);
  });
}

/** Pure: is `signal` at `now_ms` a copy of the first one rather than a second request? */
export function isEcho(first: { readonly signal: NodeJS.Signals; readonly at_ms: number }, signal: NodeJS.Signals, now_ms: number): boolean {
  return signal === first.signal && now_ms - first.at_ms < repeated_signal_window_ms;
}

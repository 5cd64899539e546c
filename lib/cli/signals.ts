/** Signals that ask a long-running command to stop cleanly. */
const shutdown_signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
/** Exit code when a second signal arrives while stopping: the user insists. */
export const forced_exit_code = 130;

/**
 * Resolves on the first SIGINT/SIGTERM. A second one while the caller is still shutting down
 * exits at once.
 */
export function onShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (received) process.exit(forced_exit_code);
      received = true;
      resolve(signal);
    };
    for (const signal of shutdown_signals) process.on(signal, handler);
  });
}

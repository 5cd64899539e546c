/**
 * `twopc status --watch [--interval MS]`: the status table again and again until Ctrl-C.
 * On a terminal each frame replaces the last (ANSI clear); piped, frames are appended, each
 * under its time, and with --json each frame is one JSON line. SIGINT/SIGTERM end it, exit 0.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { exit_codes, type ExitCode } from './exit.ts';
import { onShutdownSignal } from './signals.ts';
import { cliTransport } from './http.ts';
import { formatStatusTable, readClusterStatus, status_timeout_ms } from './node-status.ts';

/** Default pause between two frames of `status --watch`. */
export const watch_interval_default_ms = 1_000;

const clear_screen = '\u001b[H\u001b[2J';

export async function watchStatus(nodes: readonly string[], interval_ms: number, json: boolean): Promise<ExitCode> {
  const stop = new AbortController();
  void onShutdownSignal().then(() => stop.abort());
  const tty = process.stdout.isTTY === true && !json;
  while (!stop.signal.aborted) {
    const statuses = await readClusterStatus(cliTransport(), nodes, Math.min(status_timeout_ms, interval_ms));
    if (stop.signal.aborted) break;
    const at = new Date().toISOString();
    if (json) process.stdout.write(`${JSON.stringify({ at, nodes: statuses })}\n`);
    else {
      const frame = `${at}  (every ${interval_ms} ms; Ctrl-C to stop)\n${formatStatusTable(statuses)}\n`;
      process.stdout.write(tty ? `${clear_screen}${frame}` : `${frame}\n`);
    }
    await sleep(interval_ms, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  return exit_codes.ok;
}

import { cliTransport } from '../cli/http.ts';
import { probeRole, isServing, type RoleProbe } from '../client/role.ts';
import { cell, formatTable } from '../util/text-table.ts';

/** How often the table asks every node for its role. */
export const table_poll_interval_ms = 500;
/** Timeout of one `/role` call made for the table. */
export const table_poll_timeout_ms = 300;

const ansi_clear_to_end = '\u001b[0J';
const ansiCursorUp = (lines: number): string => `\u001b[${lines}A`;

export interface LiveTableOptions {
  readonly addrs: readonly string[];
  /** Restart count per node, read at every redraw. */
  readonly restarts: (addr: string) => number;
  readonly out?: NodeJS.WriteStream;
  readonly err?: NodeJS.WriteStream;
}

/** The supervisor's view of its nodes, redrawn as they change. */
export interface LiveTable {
  start(): void;
  /** Stops polling; leaves the last table on screen. */
  stop(): Promise<void>;
  /** Prints a log line to stderr without tearing the table (on a TTY it is redrawn below). */
  printAbove(line: string): void;
}

/**
 * Polls every node's `/role` each `table_poll_interval_ms` and shows address, role, alive, epoch,
 * last sequence, state and restarts. On a TTY the table is redrawn in place; otherwise it is
 * printed again only when it changed.
 */
export function createLiveTable(options: LiveTableOptions): LiveTable {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const tty = out.isTTY === true;
  let shown = '';
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  let running = false;

  // From column 0: a Ctrl-C echoed as "^C" leaves the cursor two columns in, and moving up
  // from there would keep the header's first two characters and write after them.
  const erase = (): void => {
    if (tty && drawnLines > 0) out.write(`\r${ansiCursorUp(drawnLines)}${ansi_clear_to_end}`);
    drawnLines = 0;
  };
  const draw = (text: string): void => {
    if (tty) {
      if (text === shown && drawnLines > 0) return;
      erase();
      out.write(`${text}\n`);
      drawnLines = text.split('\n').length;
    } else if (text !== shown) {
      out.write(`\n${text}\n`);
    }
    shown = text;
  };
  const pollOnce = async (): Promise<void> => {
    const probes = await Promise.all(options.addrs.map((addr) => probeRole(cliTransport(), addr, table_poll_timeout_ms)));
    if (running) draw(renderTable(probes, options.restarts));
  };
  const pollThenSchedule = (): void => {
    polling = pollOnce().finally(() => {
      if (running) timer = setTimeout(pollThenSchedule, table_poll_interval_ms);
    });
  };

  return {
    start() {
      if (running) return;
      running = true;
      pollThenSchedule();
    },
    /** Stops polling and leaves the last table on screen; later lines go below it. */
    async stop() {
      running = false;
      clearTimeout(timer);
      await polling;
      if (tty && drawnLines > 0) out.write('\r');
      drawnLines = 0;
    },
    printAbove(line) {
      if (!tty || drawnLines === 0) {
        err.write(`${line}\n`);
        return;
      }
      erase();
      err.write(`${line}\n`);
      draw(shown);
    },
  };
}

/** The table text for one round of probes. */
export function renderTable(probes: readonly RoleProbe[], restarts: (addr: string) => number): string {
  const rows = probes.map((probe) => {
    if (probe.kind === 'down') return [probe.addr, 'down', 'no', '-', '-', '-', String(restarts(probe.addr))];
    const role = probe.role;
    return [
      probe.addr,
      role.role,
      cell(isServing(role)),
      cell(role.epoch),
      cell(role.last_sequence),
      cell(role.state),
      String(restarts(probe.addr)),
    ];
  });
  return formatTable(['ADDRESS', 'ROLE', 'ALIVE', 'EPOCH', 'SEQUENCE', 'STATE', 'RESTARTS'], rows);
}

/**
 * A node's structured log: pino, one JSON line per event on stderr (pretty, through
 * pino-pretty, only when stderr is a terminal). Every line carries the node's `addr` and
 * its current `epoch` (an event's own `epoch` field wins), the `event` name and a level.
 * Call sites only ever see `log.info(event, fields)` / `log.warn(event, fields)` (lib/node/logger.ts).
 */
import { pino, stdTimeFunctions, type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { Logger } from '../node/logger.ts';

export const log_levels = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof log_levels)[number];
export const log_level_default: LogLevel = 'warn';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable lines (pino-pretty) instead of JSON lines. */
  readonly pretty: boolean;
  /** The node's current epoch, read at every line. */
  readonly epoch: () => number;
  /** Where each finished line goes (it ends in a newline); default stderr. */
  readonly sink?: (line: string) => void;
}

export function createLogger(addr: string, options: LoggerOptions): Logger {
  const sink = options.sink ?? ((line: string) => void process.stderr.write(line));
  const prettify = options.pretty
    ? prettyFactory({
        messageKey: 'event',
        messageFormat: '{addr} {event}',
        ignore: 'pid,hostname,addr',
        singleLine: true,
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
      })
    : undefined;
  const destination: DestinationStream = { write: (line: string) => sink(prettify ? prettify(line) : line) };
  const logger = pino(
    {
      level: options.level,
      base: { addr },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => ({ epoch: options.epoch() }),
    },
    destination,
  );
  return {
    // `event` leads the event's own fields (pino would put a message last). Nothing is
    // built for a level that is off: `info` runs several times per transaction.
    info: (event, fields) => {
      if (logger.isLevelEnabled('info')) logger.info({ event, ...fields });
    },
    warn: (event, fields) => {
      if (logger.isLevelEnabled('warn')) logger.warn({ event, ...fields });
    },
  };
}

export function isLogLevel(value: string): value is LogLevel {
  return (log_levels as readonly string[]).includes(value);
}

/** The env `TWOPC_LOG_LEVEL` if it names a level, else `warn`. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env['TWOPC_LOG_LEVEL'];
  return level !== undefined && isLogLevel(level) ? level : log_level_default;
}

/** Pretty lines only for a person watching: stderr is a terminal. */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

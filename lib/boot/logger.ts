/**
 * A node's structured log: pino, one JSON line per event on stderr (pretty, through
 * pino-pretty, only when stderr is a terminal, and only then loaded). Every line carries the node's `addr` and
 * its current `epoch` (an event's own `epoch` field wins), the `event` name and a level.
 * Call sites only ever see `log.info(event, fields)` / `log.warn(event, fields)` (lib/node/logger.ts).
 */
import { createRequire } from 'node:module';
import { pino, stdTimeFunctions, type DestinationStream } from 'pino';
import type { Logger } from '../node/logger.ts';
import type { LogLevel } from './log-levels.ts';

export { isLogLevel, levelFromEnv, log_level_default, log_levels, type LogLevel } from './log-levels.ts';

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
    ? loadPrettyFactory()({
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

/** pino-pretty costs about 8 MB: it is loaded for a person at a terminal, not by every node. */
function loadPrettyFactory(): typeof import('pino-pretty').prettyFactory {
  return (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')).prettyFactory;
}

/** Pretty lines only for a person watching: stderr is a terminal. */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

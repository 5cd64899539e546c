/**
 * The log levels a node accepts, apart from the logger itself: the CLI parses `--log-level`
 * (also in the `twopc cluster` supervisor, which runs no node) without loading pino.
 */
export const log_levels = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof log_levels)[number];
export const log_level_default: LogLevel = 'warn';

export function isLogLevel(value: string): value is LogLevel {
  return (log_levels as readonly string[]).includes(value);
}

/** The env `TWOPC_LOG_LEVEL` if it names a level, else `warn`. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env['TWOPC_LOG_LEVEL'];
  return level !== undefined && isLogLevel(level) ? level : log_level_default;
}

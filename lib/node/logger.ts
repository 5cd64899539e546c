/**
 * One line per event on stderr, JSON when not a terminal. Kept tiny on purpose: the
 * structured logger with levels comes with the operations work.
 */
export interface Logger {
  info(event: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(event: string, fields?: Readonly<Record<string, unknown>>): void;
}

export type LogLevel = 'silent' | 'warn' | 'info';

export function createLogger(addr: string, level: LogLevel): Logger {
  const write = (severity: 'info' | 'warn', event: string, fields?: Readonly<Record<string, unknown>>) => {
    if (level === 'silent' || (level === 'warn' && severity === 'info')) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: severity, node: addr, event, ...fields })}\n`);
  };
  return { info: (event, fields) => write('info', event, fields), warn: (event, fields) => write('warn', event, fields) };
}

export function levelFromEnv(): LogLevel {
  const level = process.env['TWOPC_LOG_LEVEL'];
  return level === 'silent' || level === 'info' || level === 'warn' ? level : 'warn';
}

/**
 * What a node's services log through: an event name and its fields, at info or warn.
 * Production writes pino lines and counts every event (lib/boot/logger.ts, lib/boot/metrics.ts).
 */
export interface Logger {
  info(event: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(event: string, fields?: Readonly<Record<string, unknown>>): void;
}

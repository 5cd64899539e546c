/**
 * `--log-level LEVEL` of `twopc start-node` and `twopc cluster`: the flag, else the env
 * `TWOPC_LOG_LEVEL`, else warn. A level the flag names wrongly is a usage error.
 */
import { isLogLevel, levelFromEnv, log_levels, type LogLevel } from '../boot/log-levels.ts';
import { UsageError } from './exit.ts';
import { optionalText } from './flags.ts';

export function parseLogLevel(value: unknown, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const text = optionalText(value, '--log-level');
  if (text === undefined) return levelFromEnv(env);
  if (!isLogLevel(text)) throw new UsageError(`--log-level must be one of ${log_levels.join(', ')}, got "${text}"`);
  return text;
}

import { UsageError } from './exit.ts';

/** `--data-dir` of `twopc start-node` and `twopc cluster` when not given. */
export const data_dir_default = './data';

/** Flags as cac hands them over: camelCased names, values not yet checked. */
export type RawFlags = Readonly<Record<string, unknown>>;

/** A flag's value as text; a repeated or valueless flag is a usage error. */
export function flagText(value: unknown, flag: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) throw new UsageError(`give ${flag} only once`);
  throw new UsageError(`${flag} needs a value`);
}

/** An optional text flag: undefined when absent. */
export function optionalText(value: unknown, flag: string): string | undefined {
  return value === undefined ? undefined : flagText(value, flag);
}

/** A whole number in [min, max]; anything else is a usage error naming the flag. */
export function flagInteger(value: unknown, flag: string, min: number, max: number): number {
  const text = flagText(value, flag).trim();
  const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return number;
}

/** A boolean switch; `--flag` or an env value of `1`/`true` turns it on. */
export function flagSwitch(value: unknown, envValue?: string): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.includes(true);
  return envValue === '1' || envValue === 'true';
}

/** A required positional argument (cac hands these over as raw strings). */
export function positional(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing ${name}`);
  return value;
}

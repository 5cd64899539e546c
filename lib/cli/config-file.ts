/**
 * `twopc start-node --config FILE`: a JSON file holding the same settings as the flags
 * (`addr`, `bind`, `peers`, `data_dir`, `secret_file`, `client_keys_file`, `failpoints`, `log_level`). Flags given on
 * the command line override the file. Relative paths in the file are taken from the file's
 * own directory. An unreadable file, bad JSON, an unknown key or a value of the wrong type
 * is a usage error (one line, exit 2) naming the file and the key.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './exit.ts';
import { optionalText, type RawFlags } from './flags.ts';

type Kind = 'text' | 'path' | 'addr-list' | 'switch';

/** Each key of the file, the raw flag it stands for, and what its value must be. */
const config_keys: Readonly<Record<string, { readonly flag: string; readonly kind: Kind }>> = {
  addr: { flag: 'addr', kind: 'text' },
  bind: { flag: 'bind', kind: 'text' },
  peers: { flag: 'peers', kind: 'addr-list' },
  data_dir: { flag: 'dataDir', kind: 'path' },
  secret_file: { flag: 'secretFile', kind: 'path' },
  client_keys_file: { flag: 'clientKeysFile', kind: 'path' },
  failpoints: { flag: 'failpoints', kind: 'switch' },
  log_level: { flag: 'logLevel', kind: 'text' },
};

/** `raw` with the settings of `--config FILE` filled in wherever no flag was given. */
export function withConfigFile(raw: RawFlags): RawFlags {
  const path = optionalText(raw['config'], '--config');
  if (path === undefined) return raw;
  const from_file = readConfigFile(path);
  const merged: Record<string, unknown> = { ...from_file };
  for (const [name, value] of Object.entries(raw)) if (value !== undefined) merged[name] = value;
  return merged;
}

/** The file's settings as raw flags (cac's camelCased names). */
export function readConfigFile(path: string): RawFlags {
  const where = `config file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new UsageError(`cannot read ${where} (${code})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${where} must hold a JSON object`);
  const base = dirname(resolve(path));
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const known = config_keys[key];
    if (known === undefined) throw new UsageError(`${where}: unknown key "${key}" (known: ${Object.keys(config_keys).join(', ')})`);
    flags[known.flag] = convert(value, known.kind, `${where}: "${key}"`, base);
  }
  return flags;
}

function convert(value: unknown, kind: Kind, what: string, base: string): unknown {
  switch (kind) {
    case 'switch':
      if (typeof value !== 'boolean') throw new UsageError(`${what} must be true or false`);
      return value ? true : undefined;
    case 'addr-list':
      if (typeof value === 'string') return value;
      // An empty list: no peers, a cluster of one (the same as leaving --peers out).
      if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.length === 0 ? undefined : value.join(',');
      throw new UsageError(`${what} must be a list of HOST:PORT strings`);
    case 'path':
    case 'text':
      if (typeof value !== 'string' || value === '') throw new UsageError(`${what} must be a non-empty string`);
      return kind === 'path' ? resolve(base, value) : value;
  }
}

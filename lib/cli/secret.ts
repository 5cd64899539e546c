import { readFileSync } from 'node:fs';
import { UsageError } from './exit.ts';
import { secret_min_length_chars } from '../security/signature.ts';

/**
 * The cluster secret from `--secret-file PATH`, else the file named by env `TWOPC_SECRET_FILE`
 * (how container secrets arrive), else env `TWOPC_SECRET`; undefined when none is given. A
 * given secret that is unreadable or too short is a usage error.
 */
export function readSecret(secretFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = secretFile ?? nonEmpty(env['TWOPC_SECRET_FILE']);
  const secret = file !== undefined ? readSecretFile(file) : env['TWOPC_SECRET'];
  if (secret === undefined || secret === '') return undefined;
  if (secret.length < secret_min_length_chars) {
    throw new UsageError(`the cluster secret must be at least ${secret_min_length_chars} characters (--secret-file PATH or env TWOPC_SECRET)`);
  }
  return secret;
}

/** Binding a non-loopback address needs a cluster secret. */
export function requireSecretFor(host: string, secret: string | undefined, loopback: boolean): void {
  if (loopback || secret !== undefined) return;
  throw new UsageError(
    `binding ${host} (not loopback) needs a cluster secret of at least ${secret_min_length_chars} characters: pass --secret-file PATH or set env TWOPC_SECRET`,
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new UsageError(`cannot read the cluster secret file ${path} (${code})`);
  }
}

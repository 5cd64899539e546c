/**
 * Client keys: credentials for clients that open the client routes only, never a peer route.
 * A client key is one line, `twopc-key:NAME:SECRET` (NAME 1-64 of letters, digits, `_.-`;
 * SECRET at least 32 characters, no spaces). The client uses the whole line wherever it
 * would use the cluster secret (`--secret-file`, `TWOPC_SECRET`, `connect({ secret })`): it
 * signs with SECRET and names NAME in `x-twopc-key`. A node reads the keys it accepts from
 * `--client-keys-file PATH`, one key line each (blank lines and `#` comments allowed), and
 * reads the file again when it changes, so keys are added and revoked without a restart.
 */
import { readFileSync, statSync } from 'node:fs';
import { secret_min_length_chars } from './signature.ts';

export const client_key_prefix = 'twopc-key:';
/** How often at most a node looks whether its client keys file changed. */
export const client_keys_check_interval_ms = 1_000;

const key_line = /^twopc-key:([A-Za-z0-9_.-]{1,64}):(\S+)$/;

/** What a signer holds: the cluster secret, or one client key. */
export type Credential = { readonly kind: 'cluster'; readonly secret: string } | { readonly kind: 'client-key'; readonly name: string; readonly secret: string };

/** The cluster secret, or a client key line; undefined for a malformed client key line. */
export function parseCredential(text: string): Credential | undefined {
  if (!text.startsWith(client_key_prefix)) return { kind: 'cluster', secret: text };
  const match = key_line.exec(text.trim());
  if (!match || match[2]!.length < secret_min_length_chars) return undefined;
  return { kind: 'client-key', name: match[1]!, secret: match[2]! };
}

/** The keys of a client keys file by name; throws naming the line that is not a key. */
export function parseClientKeys(text: string, path: string): ReadonlyMap<string, string> {
  const keys = new Map<string, string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const credential = parseCredential(line);
    if (credential?.kind !== 'client-key') {
      throw new Error(`${path} line ${index + 1} is not a client key (twopc-key:NAME:SECRET, the secret at least ${secret_min_length_chars} characters)`);
    }
    if (keys.has(credential.name)) throw new Error(`${path} line ${index + 1} names the key ${credential.name} a second time`);
    keys.set(credential.name, credential.secret);
  });
  return keys;
}

/**
 * The client keys a node accepts, from a file it re-reads when the file changes (looked at
 * most every `client_keys_check_interval_ms`). A file that turns unreadable or malformed
 * keeps the keys last read, and says so once through `warn`.
 */
export class ClientKeys {
  private keys: ReadonlyMap<string, string>;
  private version: string;
  private checked_ms = 0;

  /** Reads the file now: a missing or malformed file throws (the node refuses to start). */
  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void,
  ) {
    this.version = versionOf(path);
    this.keys = parseClientKeys(readFileSync(path, 'utf8'), path);
  }

  /** The secret of the key `name`, if the node accepts it. */
  secretOf(name: string, now_ms: number): string | undefined {
    if (now_ms - this.checked_ms >= client_keys_check_interval_ms) this.reloadIfChanged(now_ms);
    return this.keys.get(name);
  }

  private reloadIfChanged(now_ms: number): void {
    this.checked_ms = now_ms;
    try {
      const version = versionOf(this.path);
      if (version === this.version) return;
      this.keys = parseClientKeys(readFileSync(this.path, 'utf8'), this.path);
      this.version = version;
    } catch (error) {
      this.warn(`client keys not reloaded, the last ones read still hold: ${error instanceof Error ? error.message : String(error)}`);
      this.version = 'unreadable';
    }
  }
}

function versionOf(path: string): string {
  const stat = statSync(path);
  return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
}

/**
 * The routes a client key opens: writes through the master, reads, status, metrics and the
 * dashboard. Everything else (prepare, commit, abort, the batches, `/cluster/*`, `/debug/*`)
 * is for peers and operators holding the cluster secret.
 */
export function isClientRoute(method: string, path: string): boolean {
  if (method === 'POST') return path === '/transactions';
  if (method !== 'GET') return false;
  return ['/health', '/role', '/kv', '/metrics', '/', '/dashboard/data'].includes(path) || path.startsWith('/kv/') || path.startsWith('/transactions/');
}

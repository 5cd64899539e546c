import { secret_min_length_chars } from './signature.ts';

/** True for 127.x.x.x, localhost and ::1: binding these needs no cluster secret. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  return lower === 'localhost' || lower === '::1' || /^127(\.\d{1,3}){3}$/.test(lower);
}

/**
 * Why a node may not bind `host` with this secret, or undefined if it may: any address
 * off loopback needs a cluster secret, and a secret must be long enough to be one.
 */
export function checkBindPolicy(host: string, secret: string | undefined): string | undefined {
  if (secret !== undefined && secret.length < secret_min_length_chars) {
    return `the cluster secret must be at least ${secret_min_length_chars} characters`;
  }
  if (secret === undefined && !isLoopbackHost(host)) {
    return `binding ${host} (not loopback) needs a cluster secret: --secret-file PATH or env TWOPC_SECRET`;
  }
  return undefined;
}

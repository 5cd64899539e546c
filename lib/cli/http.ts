/**
 * The CLI's one connection to the cluster: every command's requests go through the client
 * library (lib/client/), signed with the cluster secret when there is one.
 */
import { connect, type TwopcClient } from '../client/connect.ts';
import { createTransport, type Transport } from '../client/http.ts';

/** The cluster secret this process signs its requests with, if the cluster has one. */
let signing_secret: string | undefined;
let transport: Transport | undefined;

/** Sign every later request with `secret` (the CLI calls this once, before any command). */
export function signRequestsWith(secret: string | undefined): void {
  signing_secret = secret;
  transport = undefined;
}

/** Requests to single nodes (joins, role probes), signed as the commands' are. */
export function cliTransport(): Transport {
  transport ??= createTransport(signing_secret);
  return transport;
}

/** A client of the cluster at `nodes`. */
export function cliClient(nodes: readonly string[]): TwopcClient {
  return connect({ nodes, ...(signing_secret !== undefined && { secret: signing_secret }) });
}

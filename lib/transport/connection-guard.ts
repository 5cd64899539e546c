/**
 * Connection limits of a node's listener, so misbehaving clients cannot starve its peers.
 *
 * - A connection must deliver a request's headers within `header_timeout_ms` of opening
 *   or of its previous answer, else it is closed (slowloris: Node's own 60 s header limit
 *   is checked only every 30 s). Idle keep-alive connections close after `keep_alive_idle_ms`.
 * - Peers get a budget of their own. A connection counts as a peer's once it carried a
 *   request from a peer (`isPeer`: with a secret, signed with the cluster secret and not
 *   refused); up to `peer_connections_max` of them are never closed for the clients' sake.
 * - Every other connection shares `client_connections_max`. When a new one would exceed it,
 *   the connection that has waited longest for its headers (silent or slow) is closed; if
 *   every one is busy with a request, the new one is. So thousands of silent connections
 *   leave the node reachable: each new client, and each peer, pushes out an idle one.
 *
 * One listener serves both: peers keep the address the membership knows, and the budgets
 * tell them apart by what the connection did, which an attacker without the secret cannot do.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  readonly header_timeout_ms: number;
  readonly keep_alive_idle_ms: number;
  readonly client_connections_max: number;
  readonly peer_connections_max: number;
}

export const default_connection_limits: ConnectionLimits = Object.freeze({
  header_timeout_ms: 5_000,
  keep_alive_idle_ms: 5_000,
  client_connections_max: 1_024,
  peer_connections_max: 256,
});

/** How often open connections are checked against `header_timeout_ms`. */
const sweep_interval_ms = 500;

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

interface Tracked {
  /** When it started waiting for a request's headers; undefined while a request runs. */
  awaiting_since_ms: number | undefined;
  peer: boolean;
}

/** Apply `limits` to `server`; returns `handler` wrapped to see each request and its answer. */
export function guardConnections(server: Server, handler: NodeHandler, limits: ConnectionLimits, isPeer: (req: IncomingMessage, res: ServerResponse) => boolean): NodeHandler {
  const sockets = new Map<Socket, Tracked>();
  let peers = 0;
  server.keepAliveTimeout = limits.keep_alive_idle_ms;
  server.headersTimeout = limits.header_timeout_ms;
  server.maxConnections = limits.client_connections_max + limits.peer_connections_max;
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { awaiting_since_ms: Date.now(), peer: false });
    socket.once('close', () => {
      if (sockets.get(socket)?.peer) peers -= 1;
      sockets.delete(socket);
    });
    if (sockets.size - peers > limits.client_connections_max) (longestWaiting(sockets) ?? socket).destroy();
  });
  const sweep = setInterval(() => {
    const now_ms = Date.now();
    for (const [socket, tracked] of sockets) {
      if (!tracked.peer && tracked.awaiting_since_ms !== undefined && now_ms - tracked.awaiting_since_ms > limits.header_timeout_ms) socket.destroy();
    }
  }, sweep_interval_ms);
  sweep.unref();
  server.once('close', () => clearInterval(sweep));
  return (req, res) => {
    const tracked = sockets.get(req.socket as Socket);
    if (tracked) {
      tracked.awaiting_since_ms = undefined;
      res.once('finish', () => {
        tracked.awaiting_since_ms = Date.now();
        if (!tracked.peer && peers < limits.peer_connections_max && isPeer(req, res)) {
          tracked.peer = true;
          peers += 1;
        }
      });
    }
    return handler(req, res);
  };
}

/** The non-peer connection that has waited longest for a request's headers, if any waits. */
function longestWaiting(sockets: ReadonlyMap<Socket, Tracked>): Socket | undefined {
  let oldest: [Socket, number] | undefined;
  for (const [socket, tracked] of sockets) {
    const since = tracked.awaiting_since_ms;
    if (tracked.peer || since === undefined) continue;
    if (oldest === undefined || since < oldest[1]) oldest = [socket, since];
  }
  return oldest?.[0];
}

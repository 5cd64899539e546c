/**
 * Everything a node needs to start, and what a started node is.
 */
import type { NodeLimits } from '../node/options.ts';
import type { LogLevel } from './logger.ts';

export interface NodeOptions {
  /** `host:port` this node is known by in the membership, and listens on unless `bind` says otherwise. */
  readonly addr: string;
  /**
   * The host to listen on (on the port of `addr`) when it differs from the name: in a
   * container the node is known as `node1:8081` and listens on `0.0.0.0`.
   */
  readonly bind?: string;
  /** The rest of the membership (`host:port` each). */
  readonly peers: readonly string[];
  /** Root data directory; the node keeps its files under `<dataDir>/<host>_<port>/`. */
  readonly dataDir: string;
  /** Expose `POST /debug/failpoints` (tests only). */
  readonly failpoints?: boolean;
  /** The cluster secret: when set, every request to and from this node is signed. */
  readonly secret?: string;
  /** A file of client keys (`twopc-key:NAME:SECRET` lines) that open the client routes only; needs `secret`. */
  readonly clientKeysFile?: string;
  readonly limits?: Partial<NodeLimits>;
  /** Log level; default the env TWOPC_LOG_LEVEL, else warn. */
  readonly logLevel?: LogLevel;
  /** Pretty log lines instead of JSON lines; default: when stderr is a terminal. */
  readonly logPretty?: boolean;
  /** Where log lines go instead of stderr (a worker thread hands them to its supervisor). */
  readonly logSink?: (line: string) => void;
}

/** A running node. `stop()` closes the listener and the database; it is idempotent. */
export interface NodeHandle {
  readonly addr: string;
  /** `http://host:port` */
  readonly url: string;
  stop(): Promise<void>;
}

/** A start-up failure users should see as one line (busy port, unwritable data dir). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

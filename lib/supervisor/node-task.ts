import type { MessagePort } from 'node:worker_threads';
import type { NodeLimits } from '../node/options.ts';
import type { LogLevel } from '../boot/logger.ts';

/** What a node needs to run, minus the message port a launch creates. */
export interface NodeSpec {
  readonly addr: string;
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly failpoints: boolean;
  readonly limits?: Partial<NodeLimits>;
  readonly secret?: string;
  readonly logLevel?: LogLevel;
  /** Pretty log lines (the supervisor's stderr is a terminal). */
  readonly logPretty?: boolean;
}

/** One node as a long-running piscina task. Everything but `port` is structured-cloned. */
export interface NodeTask extends NodeSpec {
  /** The supervisor's line to the task: it sends `stop`, the task reports `started`. */
  readonly port: MessagePort;
}

/** Supervisor → task. */
export type SupervisorMessage = { readonly type: 'stop' };

/** Task → supervisor. */
export type NodeTaskMessage = { readonly type: 'started' };

/** Task → supervisor: one of the node's log lines, for the supervisor to print. */
export type NodeLogMessage = { readonly type: 'log'; readonly line: string };

/**
 * How a task ended when it ended on its own terms. A start-up failure is a value, not a
 * rejection, because a custom error class does not survive the trip across threads.
 */
export type NodeTaskResult =
  | { readonly outcome: 'stopped' }
  | { readonly outcome: 'startup-failed'; readonly reason: string };

export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'stop';
}

export function isNodeLogMessage(value: unknown): value is NodeLogMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'log' && typeof (value as { line?: unknown }).line === 'string';
}

export function isNodeTaskMessage(value: unknown): value is NodeTaskMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'started';
}

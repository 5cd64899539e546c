/**
 * The twopc client library: `import { connect } from 'twopc'`. Light by design: node:http,
 * node:crypto and valibot, never the node stack (SQLite, h3, piscina).
 */
export { connect, type ConnectOptions, type TwopcClient } from './connect.ts';
export { commit_timeout_default_ms, type CommitOptions, type Committed } from './commit.ts';
export type { Entry, ListOptions, Page, ReadOptions } from './read.ts';
export type { TransactionOutcome, TransactionReport, TransactionView } from './transaction.ts';
export type { NodeStatus } from './status.ts';
export {
  AbortedError,
  BadInputError,
  NotServedError,
  TwopcError,
  UnavailableError,
  UnknownOutcomeError,
  UnreachableError,
  type TwopcErrorKind,
  type Votes,
} from './errors.ts';

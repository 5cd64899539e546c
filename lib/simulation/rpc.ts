/**
 * The messages simulated nodes and clients exchange, named after the real routes, with the
 * answer each expects. A call either gets its answer or fails (timeout, refused).
 */
import type { AbortRequest, CommitRequest, CommittedEntry, PrepareRequest, PrepareResponse, SubmitRequest, TransactionView } from '../protocol/messages.ts';
import type { EpochGrant } from '../cluster/election.ts';
import type { PeerReport } from '../cluster/membership.ts';
import type { ClaimReply } from '../node/cluster-service.ts';

export type DecisionAnswer =
  | { readonly ok: true; readonly status: 'COMMITTED' | 'ABORTED' }
  | { readonly ok: false; readonly http_status: 404 | 409 | 500; readonly error: string };

export type SubmitAnswer =
  | { readonly http_status: 200; readonly transaction_id: string; readonly sequence: number }
  | { readonly http_status: 409; readonly transaction_id: string; readonly reason: string }
  | { readonly http_status: 421; readonly master: string | undefined }
  | { readonly http_status: 503; readonly error: string; readonly master: string | undefined };

export interface RpcMap {
  /** POST /prepare */
  readonly prepare: readonly [PrepareRequest, PrepareResponse];
  /** POST /commit */
  readonly commit: readonly [CommitRequest, DecisionAnswer];
  /** POST /abort */
  readonly abort: readonly [AbortRequest, DecisionAnswer];
  /** GET /transactions/:id */
  readonly view: readonly [{ readonly transaction_id: string }, TransactionView];
  /** GET /health */
  readonly health: readonly [Record<string, never>, PeerReport];
  /** GET /cluster/log?after= */
  readonly log: readonly [{ readonly after: number }, { readonly entries: readonly CommittedEntry[] }];
  /** The epoch claim a candidate sends every member (lib/cluster/election.ts, answerClaim); the answer carries the granter's max_applied. */
  readonly claim: readonly [EpochGrant, ClaimReply];
  /** POST /transactions */
  readonly submit: readonly [SubmitRequest, SubmitAnswer];
}

export type RpcKind = keyof RpcMap;
export type RpcRequest<K extends RpcKind> = RpcMap[K][0];
export type RpcAnswer<K extends RpcKind> = RpcMap[K][1];

export type Reply<T> = { readonly ok: true; readonly body: T } | { readonly ok: false; readonly error: 'timeout' | 'refused' };

export type Handlers = { readonly [K in RpcKind]: (request: RpcRequest<K>, reply: (answer: RpcAnswer<K>) => void) => void };

import * as v from 'valibot';
import { KeySchema, PayloadSchema, type Payload } from './payload.ts';
import type { AbortReason, TransactionState, Vote } from './states.ts';
import { TransactionIdSchema } from './transaction-id.ts';

export { transaction_id_max_length_chars, TransactionIdSchema } from './transaction-id.ts';

/** `host:port` as written in the membership list. */
export const AddrSchema = v.pipe(
  v.string('addr must be a string'),
  v.regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/, 'addr must be host:port'),
  v.check((addr) => {
    const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65_535;
  }, 'addr port must be 1-65535'),
);

/** Highest epoch accepted: the next one up is still a safe integer. */
export const epoch_max = Number.MAX_SAFE_INTEGER - 1;
/**
 * How far above the highest epoch a node knows a claim or a coordinator message may be. A
 * real claim is one above the highest epoch its candidate has seen, and a node that lags
 * learns newer epochs from its peers' heartbeats; 10,000 is over half an hour of elections
 * failing back to back, one a heartbeat. One forged request can move epochs no further.
 */
export const epoch_claim_lead_max = 10_000;

// Safe integers only: an epoch of 1e308 would be adopted, and epoch + 1 would equal it.
const EpochSchema = v.pipe(v.number('epoch must be a number'), v.safeInteger('epoch must be a safe integer'), v.minValue(0), v.maxValue(epoch_max, `epoch must be at most ${epoch_max}`));
const SequenceSchema = v.pipe(v.number('sequence must be a number'), v.safeInteger('sequence must be a safe integer'), v.minValue(1));

/** Phase one, coordinator → participant. The seed's fields are `transaction_id` and `payload`. */
export const PrepareRequestSchema = v.object({
  transaction_id: TransactionIdSchema,
  payload: PayloadSchema,
  /** The coordinator's epoch; peers always send it. Absent means "the receiver's current epoch". */
  epoch: v.optional(EpochSchema),
  coordinator: v.optional(AddrSchema),
  /** Every participant of this round, so a participant in doubt knows whom to ask. */
  participants: v.optional(v.array(AddrSchema)),
});
export type PrepareRequest = v.InferOutput<typeof PrepareRequestSchema>;

/** A participant's vote. */
export type PrepareResponse =
  | { readonly status: Extract<Vote, 'READY'> }
  | { readonly status: Extract<Vote, 'ABORT'>; readonly reason: AbortReason | string; readonly key?: string; readonly sequence?: number };

/** Phase two, coordinator → participant. */
export const CommitRequestSchema = v.object({
  transaction_id: TransactionIdSchema,
  /** The commit sequence the coordinator assigned (the seed's commit without one is gone). */
  sequence: SequenceSchema,
  epoch: v.optional(EpochSchema),
  coordinator: v.optional(AddrSchema),
});
export type CommitRequest = v.InferOutput<typeof CommitRequestSchema>;

/** Most transactions one batch message may carry. */
export const batch_max_transactions = 1024;

/**
 * Phase one for many transactions of one round (a master's group commit): each is voted on
 * its own, in order; the READY ones are persisted in one local transaction.
 */
export const PrepareBatchRequestSchema = v.object({
  epoch: v.optional(EpochSchema),
  coordinator: v.optional(AddrSchema),
  participants: v.optional(v.array(AddrSchema)),
  transactions: v.pipe(
    v.array(v.object({ transaction_id: TransactionIdSchema, payload: PayloadSchema })),
    v.minLength(1, 'a batch has at least one transaction'),
    v.maxLength(batch_max_transactions, `a batch has at most ${batch_max_transactions} transactions`),
  ),
});
export type PrepareBatchRequest = v.InferOutput<typeof PrepareBatchRequestSchema>;

/** Phase two for many transactions: commits (with their sequences) and aborts, applied together. */
export const DecideBatchRequestSchema = v.object({
  epoch: v.optional(EpochSchema),
  coordinator: v.optional(AddrSchema),
  commits: v.pipe(
    v.array(v.object({ transaction_id: TransactionIdSchema, sequence: SequenceSchema })),
    v.maxLength(batch_max_transactions, `a batch has at most ${batch_max_transactions} commits`),
  ),
  aborts: v.pipe(v.array(TransactionIdSchema), v.maxLength(batch_max_transactions, `a batch has at most ${batch_max_transactions} aborts`)),
});
export type DecideBatchRequest = v.InferOutput<typeof DecideBatchRequestSchema>;

/** Many `GET /transactions/:id` at once (`POST /cluster/views`): a restarted node's in-doubt batch asks each peer once. */
export const ViewsRequestSchema = v.object({
  transaction_ids: v.pipe(
    v.array(TransactionIdSchema),
    v.minLength(1, 'ask about at least one transaction'),
    v.maxLength(batch_max_transactions, `ask about at most ${batch_max_transactions} transactions`),
  ),
});
export type ViewsRequest = v.InferOutput<typeof ViewsRequestSchema>;

export const AbortRequestSchema = v.object({
  transaction_id: TransactionIdSchema,
  epoch: v.optional(EpochSchema),
  coordinator: v.optional(AddrSchema),
});
export type AbortRequest = v.InferOutput<typeof AbortRequestSchema>;

/**
 * The coordinator messages as they arrive over the wire: they must name their epoch and
 * coordinator, and a participant takes them only from the master of that epoch
 * (lib/two-phase-commit/participant.ts, `checkOrigin`). A node's own calls to its
 * participant (its own rounds, in-doubt resolution) use the schemas above.
 */
const from_coordinator = { epoch: EpochSchema, coordinator: AddrSchema } as const;
export const WirePrepareRequestSchema = v.object({ ...PrepareRequestSchema.entries, ...from_coordinator });
export const WireCommitRequestSchema = v.object({ ...CommitRequestSchema.entries, ...from_coordinator });
export const WireAbortRequestSchema = v.object({ ...AbortRequestSchema.entries, ...from_coordinator });
export const WirePrepareBatchRequestSchema = v.object({ ...PrepareBatchRequestSchema.entries, ...from_coordinator });
export const WireDecideBatchRequestSchema = v.object({ ...DecideBatchRequestSchema.entries, ...from_coordinator });

/** Client → master. */
export const SubmitRequestSchema = v.object({
  payload: PayloadSchema,
  transaction_id: v.optional(TransactionIdSchema),
});
export type SubmitRequest = v.InferOutput<typeof SubmitRequestSchema>;

export const MembershipRequestSchema = v.object({ addr: AddrSchema });

/** `POST /cluster/claim`: a candidate asks for the exclusive use of `epoch`. */
export const ClaimRequestSchema = v.object({ epoch: EpochSchema, candidate: AddrSchema });
export type ClaimRequest = v.InferOutput<typeof ClaimRequestSchema>;
export type MembershipRequest = v.InferOutput<typeof MembershipRequestSchema>;

export const TransactionIdParamSchema = v.object({ id: TransactionIdSchema });
/** `/kv/:key`: the raw path segment, percent-decoded whole (a key may contain `/`). */
export const KeyParamSchema = v.object({
  key: v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return decodeURIComponent(dataset.value);
      } catch {
        addIssue({ message: 'key is not valid percent-encoding' });
        return NEVER;
      }
    }),
    KeySchema,
  ),
});

/** `GET /kv?after=KEY&limit=N` */
export const KvPageQuerySchema = v.object({
  after: v.optional(v.pipe(v.string(), v.maxLength(256))),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, 'limit must be an integer 1-1000'),
      v.transform(Number),
      v.minValue(1, 'limit must be an integer 1-1000'),
      v.maxValue(1000, 'limit must be an integer 1-1000'),
    ),
  ),
});

/** `GET /cluster/log?after=SEQ&limit=N`: the committed log, for catch-up. */
export const LogPageQuerySchema = v.object({
  after: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'after must be a sequence number'), v.transform(Number))),
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,4}$/), v.transform(Number), v.minValue(1), v.maxValue(1000))),
});

/** `GET /cluster/digest?sequence=S`: the replica's digest at S (default: its applied prefix). */
export const DigestQuerySchema = v.object({
  sequence: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'sequence must be a sequence number'), v.transform(Number))),
});

/** One committed transaction as the log hands it to a node catching up. */
export interface CommittedEntry {
  readonly transaction_id: string;
  readonly sequence: number;
  readonly payload: Payload;
}

/** The answer of `GET /transactions/:id`. */
export interface TransactionView {
  readonly transaction_id: string;
  readonly state: TransactionState;
  readonly sequence?: number;
  readonly coordinator?: string;
  readonly epoch?: number;
  /** Epoch milliseconds of the last state change on this node. */
  readonly since: number;
  /** This node's coordinator decision, if it coordinated the transaction. */
  readonly decision?: 'COMMIT' | 'ABORT';
  /** True while this node, as coordinator, is still collecting votes. */
  readonly in_flight?: boolean;
  readonly participants?: readonly string[];
  /**
   * The answering node's epoch: it refuses coordinator messages of any older one, and never
   * goes back below it (persisted before it is reported). Absent from nodes that predate it.
   */
  readonly enforced_epoch?: number;
  /**
   * The answering replica's committed log was wiped by a repair and not pulled again from a
   * serving peer since: it may have applied a transaction it now shows UNKNOWN. Termination
   * takes such a view as no answer (termination.ts, `heardAnswer`).
   */
  readonly log_reset?: boolean;
  /**
   * The newest epoch of a round a repair may have made the answering replica forget: its
   * UNKNOWN for a round of that epoch or older is no fact (termination.ts, `heardAnswer`).
   */
  readonly forgot_through_epoch?: number;
}

/** A validation problem as Standard Schema reports it. */
export interface Issue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: unknown }> | undefined;
}

/** One readable line naming the first problem: `payload.key: message`. */
export function describeIssues(issues: readonly Issue[]): string {
  const issue = issues[0];
  if (!issue) return 'invalid input';
  const path = issue.path?.map((item) => String(typeof item === 'object' ? item.key : item)).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Parse `input` with `schema`: the value, or one readable line naming the first problem. */
export function parseMessage<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): { readonly ok: true; readonly value: v.InferOutput<S> } | { readonly ok: false; readonly error: string } {
  const result = v.safeParse(schema, input);
  return result.success ? { ok: true, value: result.output } : { ok: false, error: describeIssues(result.issues) };
}

/**
 * The tables of one node's SQLite file, as Kysely sees them.
 *
 * - `kv`: the replicated data. `value` is JSON text; NULL is a tombstone (the key was
 *   deleted at `sequence`), kept so writes apply last-writer-wins by sequence in any order.
 * - `transactions`: this node as a participant: every transaction it prepared, committed
 *   or aborted (an abort for an unknown id is remembered here with a NULL payload).
 * - `decisions`: this node as a coordinator: the decision it made for each transaction,
 *   written before any commit or abort is sent.
 * - `meta`: the node's durable scalars (epoch, membership, the epoch grant it gave).
 * - `terms`: every epoch in which this node led, for the record (`GET /cluster/terms`).
 */
export interface Tables {
  kv: KvTable;
  transactions: TransactionsTable;
  decisions: DecisionsTable;
  meta: MetaTable;
  terms: TermsTable;
}

export interface KvTable {
  key: string;
  value: string | null;
  sequence: number;
}

export interface TransactionsTable {
  id: string;
  state: 'PREPARED' | 'COMMITTED' | 'ABORTED';
  payload: string | null;
  sequence: number | null;
  coordinator: string | null;
  epoch: number;
  participants: string | null;
  updated_at: number;
}

export interface DecisionsTable {
  id: string;
  decision: 'COMMIT' | 'ABORT';
  sequence: number | null;
  epoch: number;
  participants: string;
  created_at: number;
}

export interface MetaTable {
  name: string;
  value: string;
}

export interface TermsTable {
  epoch: number;
  master: string;
  since: number;
}

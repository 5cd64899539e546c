/**
 * A transaction id as every message and the client check it. Its own module, apart from the
 * peer schemas of messages.ts, so a client that only commits does not build those at start
 * (issue 12: `twopc commit` wall time).
 */
import * as v from 'valibot';

/** Longest transaction id accepted, in characters. */
export const transaction_id_max_length_chars = 128;

export const TransactionIdSchema = v.pipe(
  v.string('transaction_id must be a string'),
  v.minLength(1, 'transaction_id must not be empty'),
  v.maxLength(transaction_id_max_length_chars, `transaction_id must be at most ${transaction_id_max_length_chars} characters`),
  v.regex(/^[A-Za-z0-9._:-]+$/, 'transaction_id may use only letters, digits and . _ : -'),
);

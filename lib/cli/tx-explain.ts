/**
 * `twopc tx ID` in words: from every node's view of one transaction, who prepared, who
 * committed or aborted, who could not be asked, and what the transaction is waiting for.
 * Pure: the views in, one or two sentences out.
 */
import { default_limits } from '../node/options.ts';

/** What `explainTransaction` needs of one node's view (`state` is `down` when unreachable). */
export interface ExplainedView {
  readonly addr: string;
  readonly state: string;
  readonly sequence: number | null;
  readonly coordinator: string | null;
  readonly participants: readonly string[] | null;
}

const in_doubt_after_s = Math.round(default_limits.in_doubt_after_ms / 1000);

export function explainTransaction(transaction_id: string, views: readonly ExplainedView[]): string {
  const with_state = (...states: string[]) => views.filter((view) => states.includes(view.state)).map((view) => view.addr);
  const committed = with_state('COMMITTED');
  const aborted = with_state('ABORTED');
  const prepared = with_state('PREPARED');
  const collecting = with_state('INIT');
  const unknown = with_state('UNKNOWN');
  const down = with_state('down', 'error');
  const unreachable = down.length === 0 ? '' : `; ${listAddrs(down)} unreachable`;
  const sequence = views.find((view) => view.sequence !== null)?.sequence;
  const at_sequence = sequence === undefined || sequence === null ? '' : ` at sequence ${sequence}`;

  if (down.length === views.length) return `no node could be asked about ${transaction_id}`;
  if (committed.length > 0 && aborted.length > 0) return `INCONSISTENT: committed on ${listAddrs(committed)} but aborted on ${listAddrs(aborted)}`;
  if (committed.length > 0) {
    if (committed.length === views.length) return `committed everywhere${at_sequence}`;
    const pending = prepared.length === 0 ? '' : `; PREPARED on ${listAddrs(prepared)}: waiting for the commit to be re-delivered (the coordinator retries every ${default_limits.decision_retry_interval_ms} ms; a participant asks the others after ~${in_doubt_after_s} s)`;
    const missing = unknown.length === 0 ? '' : `; ${listAddrs(unknown)} did not take part (or has not caught up yet)`;
    const returning = down.length === 0 ? '' : ' (it catches up when it returns)';
    return `committed${at_sequence} on ${listAddrs(committed)}${pending}${missing}${unreachable}${returning}`;
  }
  if (aborted.length > 0 && prepared.length === 0 && collecting.length === 0) {
    if (aborted.length === views.length) return 'aborted everywhere';
    const missing = unknown.length === 0 ? '' : `; ${listAddrs(unknown)} never prepared it`;
    return `aborted on ${listAddrs(aborted)}${missing}${unreachable}`;
  }
  if (prepared.length === 0 && collecting.length === 0) {
    return down.length === 0 ? `no node has seen transaction ${transaction_id}` : `no reachable node has seen transaction ${transaction_id}${unreachable}`;
  }
  return explainInDoubt({ prepared, collecting, aborted, down, views });
}

interface InDoubt {
  readonly prepared: readonly string[];
  readonly collecting: readonly string[];
  readonly aborted: readonly string[];
  readonly down: readonly string[];
  readonly views: readonly ExplainedView[];
}

/** Nobody committed: some participants hold it PREPARED, or its coordinator is collecting votes. */
function explainInDoubt({ prepared, collecting, aborted, down, views }: InDoubt): string {
  const coordinator = views.find((view) => view.coordinator !== null)?.coordinator ?? undefined;
  const participants = views.find((view) => view.participants !== null)?.participants ?? [];
  const held = prepared.length === 0 ? '' : `PREPARED on ${listAddrs(prepared)}`;
  if (aborted.length > 0) return `${held}, aborted on ${listAddrs(aborted)}: the prepared ones abort by cooperative termination within ~${in_doubt_after_s} s`;
  if (coordinator === undefined) return `${held}: waiting for a decision`;
  if (collecting.includes(coordinator)) {
    return `${held === '' ? 'no vote recorded yet' : held}; coordinator ${coordinator} is collecting votes: waiting for its decision (a prepare times out after ${default_limits.prepare_timeout_ms} ms)`;
  }
  if (down.includes(coordinator)) {
    const others = participants.filter((addr) => addr !== coordinator);
    const all_prepared = others.length > 0 && others.every((addr) => prepared.includes(addr));
    const outcome = all_prepared
      ? `every other participant is prepared, so unless one of them committed it stays in doubt (keys locked) until ${coordinator} returns`
      : `a participant that never prepared it makes it abort`;
    return `${held}, coordinator ${coordinator} unreachable: waiting for cooperative termination (resolves within ~${in_doubt_after_s} s of the coordinator's silence; ${outcome})`;
  }
  return `${held}; coordinator ${coordinator} is up: waiting for its decision to be delivered (re-sent every ${default_limits.decision_retry_interval_ms} ms; after ~${in_doubt_after_s} s the participants ask it)`;
}

/** "A", "A and B", "A, B and C" */
function listAddrs(addrs: readonly string[]): string {
  if (addrs.length <= 1) return addrs.join('');
  return `${addrs.slice(0, -1).join(', ')} and ${addrs.at(-1)}`;
}

import type { Timers } from '../time/timers.ts';

/** The steps a test may fail on purpose (`--failpoints` only). */
export const failpoint_names = [
  // Participant side, in the order a transaction meets them.
  'before-prepare-vote',
  'after-prepare-persist',
  'before-commit-apply',
  'after-commit-apply',
  'before-abort-apply',
  // Coordinator side.
  'before-prepare-send',
  'after-prepare-votes',
  'after-decision-persist',
  'before-decision-send',
  'after-first-commit',
  // The disk: every store write fails as an fsync EIO would, or as on a full disk (lib/node/store-faults.ts).
  'disk-write',
  'disk-full',
] as const;
export type FailpointName = (typeof failpoint_names)[number];

export type FailpointAction =
  | { readonly kind: 'off' }
  | { readonly kind: 'abort' }
  | { readonly kind: 'crash' }
  | { readonly kind: 'delay'; readonly duration_ms: number };

/** Longest delay a failpoint may inject. */
export const failpoint_delay_max_ms = 60_000;

export function parseFailpointAction(text: string): FailpointAction | undefined {
  if (text === 'off' || text === 'abort' || text === 'crash') return { kind: text };
  const match = /^delay:(\d{1,6})$/.exec(text);
  if (!match) return undefined;
  const duration_ms = Number(match[1]);
  return duration_ms <= failpoint_delay_max_ms ? { kind: 'delay', duration_ms } : undefined;
}

/** Thrown at a failpoint set to `abort`: the step fails as if its I/O had. */
export class FailpointAbort extends Error {
  override readonly name = 'FailpointAbort';
}

/**
 * The armed failpoints of one node. `hit` is awaited at each named step: it returns at
 * once when nothing is armed, which is always the case without `--failpoints`.
 */
export class Failpoints {
  private readonly armed = new Map<FailpointName, FailpointAction>();

  constructor(
    private readonly crash: () => never,
    private readonly timers: Timers,
  ) {}

  set(name: FailpointName, action: FailpointAction): void {
    if (action.kind === 'off') this.armed.delete(name);
    else this.armed.set(name, action);
  }

  list(): Readonly<Record<string, string>> {
    return Object.fromEntries([...this.armed].map(([name, action]) => [name, action.kind === 'delay' ? `delay:${action.duration_ms}` : action.kind]));
  }

  /** Is `name` armed with `abort`? For steps that cannot wait (a synchronous store write). */
  isArmed(name: FailpointName): boolean {
    return this.armed.get(name)?.kind === 'abort';
  }

  async hit(name: FailpointName): Promise<void> {
    const action = this.armed.get(name);
    if (!action) return;
    if (action.kind === 'delay') await this.timers.sleep(action.duration_ms);
    else if (action.kind === 'abort') throw new FailpointAbort(`failpoint ${name}`);
    else if (action.kind === 'crash') this.crash();
  }
}

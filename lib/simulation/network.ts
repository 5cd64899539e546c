/**
 * The simulated network: each message is independently dropped, delayed, duplicated or held
 * back (so later messages overtake it), and links can be cut one way or both. Delivery is an
 * event in the world's queue; nothing here knows what a message means.
 */
import type { NetworkFaults } from './options.ts';
import type { Random } from './random.ts';

/**
 * A scripted rule (lib/simulation/scenario.ts): messages from `from` to `to` (any when
 * absent) whose label (`POST /decide-batch`, `answer /health`, …) matches are dropped, or
 * held until the rule is released, `remaining` more times.
 */
export interface MessageRule {
  readonly from?: string;
  readonly to?: string;
  readonly label: RegExp;
  readonly action: 'drop' | 'hold';
  remaining: number;
  readonly held: (() => void)[];
}

export class Network {
  private readonly cut_links = new Set<string>();
  private readonly rules: MessageRule[] = [];
  /** Messages sent, and those lost to faults, rules or cut links. */
  readonly stats = { sent: 0, dropped: 0, cut: 0 };

  constructor(
    private readonly random: Random,
    private faults: NetworkFaults,
    private readonly deliverLater: (delay_ms: number, run: () => void) => void,
  ) {}

  setFaults(faults: NetworkFaults): void {
    this.faults = faults;
  }

  /** Stop delivering from `from` to `to` (and back, `both_ways`) until restored or healed. */
  cut(from: string, to: string, both_ways = false): void {
    this.cut_links.add(linkOf(from, to));
    if (both_ways) this.cut_links.add(linkOf(to, from));
  }

  /** Deliver again between `a` and `b`, both ways. */
  restore(a: string, b: string): void {
    this.cut_links.delete(linkOf(a, b));
    this.cut_links.delete(linkOf(b, a));
  }

  heal(): void {
    this.cut_links.clear();
  }

  /** Lift every scripted rule; held messages are delivered now. */
  liftRules(): void {
    for (const rule of [...this.rules]) this.release(rule);
  }

  addRule(rule: Omit<MessageRule, 'held'>): MessageRule {
    const added = { ...rule, held: [] };
    this.rules.push(added);
    return added;
  }

  /** Remove `rule`; the messages it held are delivered now, in the order they were sent. */
  release(rule: MessageRule): void {
    const index = this.rules.indexOf(rule);
    if (index >= 0) this.rules.splice(index, 1);
    for (const deliver of rule.held.splice(0)) this.deliverLater(0, deliver);
  }

  /** Send one message; `deliver` runs at the receiver zero, one or two times. */
  transmit(from: string, to: string, label: string, deliver: () => void): void {
    this.stats.sent += 1;
    const rule = this.rules.find((candidate) => candidate.remaining > 0 && (candidate.from ?? from) === from && (candidate.to ?? to) === to && candidate.label.test(label));
    if (rule) {
      rule.remaining -= 1;
      if (rule.action === 'hold') rule.held.push(deliver);
      else this.stats.dropped += 1;
      return;
    }
    const copies = this.random.chance(this.faults.duplicate_probability) ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1) {
      if (from !== to && this.cut_links.has(linkOf(from, to))) {
        this.stats.cut += 1;
        continue;
      }
      if (from !== to && this.random.chance(this.faults.drop_probability)) {
        this.stats.dropped += 1;
        continue;
      }
      this.deliverLater(this.pickDelay(), deliver);
    }
  }

  private pickDelay(): number {
    const { delay_min_ms, delay_max_ms, long_delay_probability, long_delay_max_ms } = this.faults;
    if (this.random.chance(long_delay_probability)) return this.random.int(delay_max_ms, Math.max(delay_max_ms, long_delay_max_ms));
    return this.random.int(delay_min_ms, delay_max_ms);
  }
}

function linkOf(from: string, to: string): string {
  return `${from}>${to}`;
}

/**
 * The chaos checker on hand-made replica dumps: a clean history passes, and each kind of
 * anomaly, planted on purpose, is counted under its own name (and only there where it
 * cannot help but touch another).
 */
import test from 'ava';
import { check, type CheckInput } from '../../lib/chaos/checker.ts';
import type { ReplicaDump, LogEntry } from '../../lib/chaos/replica-dump.ts';
import type { Attempt } from '../../lib/chaos/workload.ts';
import { formatReport, reportJson, summarize } from '../../lib/chaos/report.ts';

type Attempted = Pick<Attempt, 'transaction_id' | 'payload' | 'outcome'>;

const attempts: readonly Attempted[] = [
  { transaction_id: 'c0-t1', payload: { k1: 'c0-t1' }, outcome: 'committed' },
  { transaction_id: 'c1-t1', payload: { k1: 'c1-t1', k2: 'c1-t1' }, outcome: 'committed' },
  { transaction_id: 'c0-t2', payload: { k2: 'c0-t2' }, outcome: 'aborted' },
  { transaction_id: 'c1-t2', payload: { k3: 'c1-t2' }, outcome: 'indeterminate' },
];

const log: readonly LogEntry[] = [
  { transaction_id: 'c0-t1', sequence: 1, payload: { k1: 'c0-t1' } },
  { transaction_id: 'c1-t1', sequence: 2, payload: { k1: 'c1-t1', k2: 'c1-t1' } },
];

function replica(addr: string, overrides: Partial<ReplicaDump> = {}): ReplicaDump {
  return {
    addr,
    last_sequence: 2,
    kv: [
      { key: 'k1', value: 'c1-t1', sequence: 2 },
      { key: 'k2', value: 'c1-t1', sequence: 2 },
    ],
    log,
    terms: [{ epoch: 1, master: 'a:1' }],
    transactions: { 'c0-t1': { state: 'COMMITTED', sequence: 1 }, 'c1-t1': { state: 'COMMITTED', sequence: 2 }, 'c0-t2': { state: 'ABORTED' }, 'c1-t2': { state: 'ABORTED' } },
    ...overrides,
  };
}

function clean(): CheckInput {
  return { attempts, replicas: [replica('a:1'), replica('b:2'), replica('c:3')], claims: [{ epoch: 1, master: 'a:1', source: 'a:1 /role' }] };
}

test('a clean history has no anomaly', (t) => {
  const verdict = check(clean());
  t.is(verdict.total, 0, JSON.stringify(verdict.findings));
});

test('lost: an acknowledged commit missing on one replica', (t) => {
  const input = clean();
  const forgetful = replica('c:3', {
    log: log.slice(0, 1),
    last_sequence: 1,
    kv: [{ key: 'k1', value: 'c0-t1', sequence: 1 }],
    transactions: { ...replica('c:3').transactions, 'c1-t1': { state: 'ABORTED' } },
  });
  const verdict = check({ ...input, replicas: [input.replicas[0]!, input.replicas[1]!, forgetful] });
  t.is(verdict.anomalies.lost, 1);
  t.true(verdict.anomalies.partial >= 1);
  t.true(verdict.anomalies.divergent >= 1);
  t.regex(verdict.findings.find((f) => f.kind === 'lost')!.detail, /c1-t1.*c:3/);
});

test('phantom: a value no client wrote', (t) => {
  const input = clean();
  const kv = [...(replica('a:1').kv ?? []), { key: 'k9', value: 'ghost', sequence: 2 }];
  const verdict = check({ ...input, replicas: input.replicas.map((r) => ({ ...r, kv })) });
  t.is(verdict.anomalies.phantom, 3);
  t.is(verdict.anomalies.divergent, 0);
});

test('partial: an indeterminate transaction committed on some replicas only', (t) => {
  const input = clean();
  const half = (addr: string): ReplicaDump => replica(addr, { transactions: { ...replica(addr).transactions, 'c1-t2': { state: 'COMMITTED', sequence: 3 } } });
  const verdict = check({ ...input, replicas: [half('a:1'), half('b:2'), replica('c:3')] });
  t.is(verdict.anomalies.partial, 1);
  t.is(verdict.anomalies.lost, 0);
});

test('divergent: same sequence, different data; and a gap in the log', (t) => {
  const input = clean();
  const other = replica('b:2', { kv: [{ key: 'k1', value: 'c0-t1', sequence: 2 }, { key: 'k2', value: 'c1-t1', sequence: 2 }] });
  const verdict = check({ ...input, replicas: [input.replicas[0]!, other, input.replicas[2]!] });
  t.is(verdict.anomalies.divergent, 1);
  t.is(verdict.anomalies.wrong_value, 1);

  const gap = log.map((entry) => (entry.sequence === 2 ? { ...entry, sequence: 3 } : entry));
  const gapped = input.replicas.map((r) => ({ ...r, log: gap, last_sequence: 3, kv: (r.kv ?? []).map((item) => ({ ...item, sequence: 3 })) }));
  const verdict2 = check({ ...input, replicas: gapped });
  t.is(verdict2.anomalies.divergent, 3, JSON.stringify(verdict2.findings));
  t.regex(verdict2.findings[0]!.detail, /lacks sequence 2/);

  const reused = [...log, { transaction_id: 'c1-t2', sequence: 2, payload: { k3: 'c1-t2' } }];
  const twice = input.replicas.map((r) => ({ ...r, log: reused, transactions: { ...r.transactions, 'c1-t2': { state: 'COMMITTED', sequence: 2 } } }));
  const verdict3 = check({ ...input, replicas: twice });
  t.true(verdict3.findings.some((f) => f.kind === 'divergent' && /sequence 2 more than once/.test(f.detail)));

  const behind = input.replicas.map((r) => ({ ...r, last_sequence: 1 }));
  const verdict4 = check({ ...input, replicas: behind });
  t.is(verdict4.anomalies.divergent, 3);
  t.regex(verdict4.findings[0]!.detail, /reports last sequence 1, its log ends at 2/);
});

test('wrong_value: the last writer of a key is not what the replica holds', (t) => {
  const input = clean();
  const kv = [{ key: 'k1', value: 'c0-t1', sequence: 1 }, { key: 'k2', value: 'c1-t1', sequence: 2 }];
  const verdict = check({ ...input, replicas: input.replicas.map((r) => ({ ...r, kv })) });
  t.is(verdict.anomalies.wrong_value, 3);
  t.is(verdict.anomalies.divergent, 0);
  t.is(verdict.anomalies.phantom, 0);
});

test('wrong_value: a logged payload differs from what the client sent', (t) => {
  const input = clean();
  const altered = log.map((entry) => (entry.sequence === 1 ? { ...entry, payload: { k1: 'c1-t1' } } : entry));
  const verdict = check({ ...input, replicas: input.replicas.map((r) => ({ ...r, log: altered })) });
  t.is(verdict.anomalies.wrong_value, 3);
});

test('split_brain: two masters in one epoch, from terms or from /role', (t) => {
  const input = clean();
  const verdict = check({ ...input, replicas: [input.replicas[0]!, replica('b:2', { terms: [{ epoch: 1, master: 'b:2' }] }), input.replicas[2]!] });
  t.is(verdict.anomalies.split_brain, 1);
  const verdict2 = check({ ...input, claims: [...input.claims, { epoch: 1, master: 'c:3', source: 'c:3 /role' }] });
  t.is(verdict2.anomalies.split_brain, 1);
  const verdict3 = check({ ...input, claims: [...input.claims, { epoch: 2, master: 'c:3', source: 'c:3 /role' }] });
  t.is(verdict3.anomalies.split_brain, 0);
});

test('stuck: a transaction still PREPARED after quiescence', (t) => {
  const input = clean();
  const verdict = check({ ...input, replicas: [input.replicas[0]!, replica('b:2', { transactions: { ...replica('b:2').transactions, 'c1-t2': { state: 'PREPARED' } } }), input.replicas[2]!] });
  t.is(verdict.anomalies.stuck, 1);
  t.is(verdict.total, 1);
});

test('a replica that would not serve its data is still checked by its log and views', (t) => {
  const input = clean();
  const aborted_here = replica('c:3', { kv: undefined, log: log.slice(0, 1), last_sequence: 1, transactions: { ...replica('c:3').transactions, 'c1-t1': { state: 'ABORTED' } } });
  const verdict = check({ ...input, replicas: [input.replicas[0]!, input.replicas[1]!, aborted_here] });
  t.is(verdict.anomalies.lost, 1);
  t.is(verdict.anomalies.partial, 1);
  t.is(verdict.anomalies.phantom, 0);
  t.is(verdict.anomalies.wrong_value, 0);
  t.false(verdict.findings.some((f) => /data differs/.test(f.detail)));
});

test('aborted_applied: a 409 that is COMMITTED everywhere', (t) => {
  const input = clean();
  const applied = (addr: string): ReplicaDump => replica(addr, { transactions: { ...replica(addr).transactions, 'c0-t2': { state: 'COMMITTED', sequence: 3 } } });
  const verdict = check({ ...input, replicas: [applied('a:1'), applied('b:2'), applied('c:3')] });
  t.is(verdict.anomalies.aborted_applied, 1);
  t.is(verdict.anomalies.partial, 0);
});

test('the report sums runs, shows skips, and the JSON carries the totals', (t) => {
  const run = { kind: 'ran' as const, attempted: 4, committed: 2, aborted: 1, indeterminate: 1, faults: 1, failovers: 0, ...check(clean()) };
  const bad = { ...run, ...check({ ...clean(), claims: [...clean().claims, { epoch: 1, master: 'c:3', source: 'x' }] }) };
  const rows = [summarize('one', [run, bad]), summarize('two', [{ kind: 'skipped', reason: 'no namespaces' }])];
  const text = formatReport(rows, 7);
  t.regex(text, /^scenario\s+runs\s+attempted/);
  t.regex(text, /\none\s+2\s+8\s+4\s+2\s+2\s+2\s+0\s+0\s+0\s+0\s+0\s+0\s+1/);
  t.regex(text, /skipped two: no namespaces/);
  const json = reportJson(rows, 7) as { total: number; anomalies: Record<string, number>; scenarios: unknown[]; seed: number };
  t.is(json.total, 1);
  t.is(json.anomalies['split_brain'], 1);
  t.deepEqual(json.scenarios[1], { name: 'two', skipped: 'no namespaces' });
  t.is(json.seed, 7);
});

/**
 * The bench's judgement of issue 13's and 12's goals (lib/bench/targets.ts), table-driven:
 * met, missed by how much and by what factor, not measured with the reason (a system
 * skipped, or not in the run); and wrk's result line read into a load run's figures.
 */
import test from 'ava';
import { issue12Targets, issue13Targets, judge, type TargetFigures } from '../../lib/bench/targets.ts';
import type { LoadResult } from '../../lib/bench/load.ts';
import type { SystemRow } from '../../lib/bench/systems-table.ts';
import { parseWrkOutput, wrkLoadResult } from '../../lib/bench/wrk.ts';

for (const [comparison, goal, measured, verdict, missed_by, factor] of [
  ['>=', 1.0, 0.27, 'missed', 0.73, 3.7],
  ['>=', 1.0, 1.0, 'met', null, null],
  ['>=', 0.9, 0, 'missed', 0.9, null],
  ['<=', 1.0, 2.41, 'missed', 1.41, 2.41],
  ['<=', 3.0, 1.28, 'met', null, null],
  ['<=', 60, null, 'not measured', null, null],
] as const) {
  test(`a figure of ${measured} against ${comparison} ${goal} is ${verdict}`, (t) => {
    const target = judge(13, 'x', '×', comparison, goal, measured, 'why');
    t.is(target.verdict, verdict);
    t.is(target.missed_by, missed_by);
    t.is(target.factor, factor);
    t.is(target.note, 'why');
  });
}

function load(tx_per_s: number, p50_ms = 1, p99_ms = 2, committed = 100, aborted = 0): LoadResult {
  return { clients: 64, tx_per_s, committed, aborted, errors: 0, elapsed_s: 8, latency: { count: committed + aborted, p50_ms, p99_ms, max_ms: p99_ms, mean_ms: p50_ms } };
}

function system(name: string, members: number, figures: Partial<SystemRow>): SystemRow {
  return { system: name, label: `${name} ${members}`, members, version: null, skipped: null, throughput: null, latency: null, hot_keys: null, ...figures };
}

const figures: TargetFigures = {
  systems: [
    system('twopc', 1, { throughput: load(1349) }),
    system('twopc', 3, { throughput: load(2893), latency: load(400, 2.41, 5.92), hot_keys: { load: load(50, 1, 2, 36, 64), commit_share: 0.36 } }),
    system('twopc', 5, { throughput: load(2100) }),
    system('etcd', 3, { throughput: load(10624) }),
  ],
  failover: { runs: 5, failed: 0, p99_ms: 604 },
  restart: { committed: 1_000_000, health_ms: 1160, in_doubt: 1000, resolved_after_serving_ms: 85 },
  node_idle_rss_mb: [93.6, 90],
  node_after_load_rss_mb: [106.1],
  soak_peak_mb: null,
  soak_committed: null,
  cluster_idle_rss_mb: 159.6,
  commit_p50_ms: 731,
  help_p50_ms: 100,
};

test("issue 13's targets from the systems table: the ratios, the latency, the hot keys", (t) => {
  const verdicts = issue13Targets(figures).map((target) => [target.what, target.measured, target.verdict]);
  t.deepEqual(verdicts, [
    ['writes/s at 64 connections, twopc 3 nodes ÷ etcd 3 members', 0.272, 'missed'],
    ['p50 at 1 connection, twopc 3 nodes', 2.41, 'missed'],
    ['p99 at 1 connection, twopc 3 nodes', 5.92, 'missed'],
    ['writes/s at 64 connections, twopc 1 node ÷ 3 nodes', 0.466, 'missed'],
    ['hot keys (8 connections, 2-4 of 24 keys) committed', 36, 'missed'],
    ['writes/s at 64 connections, twopc 5 nodes ÷ 3 nodes', 0.726, 'met'],
    ['failover, kill of the master to next commit, p99', 604, 'met'],
    ['restart to /health 200, large store with in-doubt', 1160, 'met'],
  ]);
});

test('a comparison without its system is not measured, with the reason', (t) => {
  const skipped = { ...figures, systems: [...figures.systems.slice(0, 3), system('etcd', 3, { skipped: 'etcd is not installed (Debian package etcd-server)' })] };
  const [versus_etcd] = issue13Targets(skipped);
  t.is(versus_etcd?.verdict, 'not measured');
  t.is(versus_etcd?.note, 'etcd skipped: etcd is not installed (Debian package etcd-server)');
  const [without] = issue13Targets({ ...figures, systems: figures.systems.slice(0, 3) });
  t.is(without?.note, 'etcd not in this run (--compare etcd)');
});

test('a failover with no commit in time is a miss whatever the others measured', (t) => {
  const failover = issue13Targets({ ...figures, failover: { runs: 5, failed: 1, p99_ms: 500 } }).find((target) => target.what.startsWith('failover'));
  t.is(failover?.verdict, 'missed');
  t.is(failover?.note, '1 of 5 kills without a commit in time');
});

test("issue 12's targets: the largest RSS, the soak when there was one, the wall times", (t) => {
  const targets = issue12Targets(figures);
  t.deepEqual(targets.map((target) => [target.measured, target.verdict]), [
    [93.6, 'missed'],
    [106.1, 'missed'],
    [null, 'not measured'],
    [159.6, 'met'],
    [731, 'missed'],
    [100, 'met'],
    [85, 'met'],
  ]);
  t.is(targets[2]?.note, 'no soak in this run (--soak 1000000)');
  t.is(targets[0]?.missed_by, 33.6);
});

test("wrk's result line: commits are 2xx answers unless the script counted 200s and 409s apart", (t) => {
  const output = [
    'Running 8s test @ http://127.0.0.1:20000',
    'WRK_RESULT {"requests":1000,"duration_us":2000000,"status_errors":10,"socket_errors":2,"ok":-1,"aborted":-1,"other":-1,"p50_us":1500,"p99_us":4200,"max_us":9000,"mean_us":1700.5}',
  ].join('\n');
  const plain = wrkLoadResult(parseWrkOutput(output), 64);
  t.deepEqual(plain, { clients: 64, tx_per_s: 495, committed: 990, aborted: 0, errors: 12, elapsed_s: 2, latency: { count: 1000, p50_ms: 1.5, p99_ms: 4.2, max_ms: 9, mean_ms: 1.7 } });
  const counted = wrkLoadResult(parseWrkOutput(output.replace('"ok":-1,"aborted":-1,"other":-1', '"ok":300,"aborted":690,"other":10')), 8);
  t.is(counted.committed, 300);
  t.is(counted.aborted, 690);
  t.is(counted.errors, 12);
  t.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused'), { message: /wrk printed no result line/ });
});

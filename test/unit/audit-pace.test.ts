/**
 * A background audit keeps to `audit_cpu_share` of a core: after each step it rests in
 * proportion to how long the step took (lib/node/replica-integrity.ts).
 */
import test from 'ava';
import { audit_cpu_share, restAfterStep } from '../../lib/node/replica-integrity.ts';

const rows: readonly (readonly [step_ms: number, rest_ms: number])[] = [
  [0, 0],
  [1, 3],
  [10, 30],
  [24, 72],
];

for (const [step_ms, rest_ms] of rows) {
  test(`a step of ${step_ms} ms rests ${rest_ms} ms at a share of ${audit_cpu_share}`, (t) => {
    t.is(audit_cpu_share, 0.25, 'the table is written for a quarter of a core');
    t.is(restAfterStep(step_ms), rest_ms);
    if (step_ms > 0) t.is(step_ms / (step_ms + restAfterStep(step_ms)), audit_cpu_share);
  });
}

/**
 * The simulation's command line:
 *   node --import tsx/esm lib/simulation/main.ts --seeds 1000 [--from 1]   sweep seeds from..from+N-1
 *   node --import tsx/esm lib/simulation/main.ts --seed 1234 --trace       replay one seed, print its trace
 * Prints one summary line; exits 1 if any seed broke an invariant, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { runSimulation, type SimResult } from './runner.ts';

const usage = 'usage: main.ts --seeds N [--from S] | --seed S [--trace]';

function parseCount(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}; ${usage}`);
    process.exit(2);
  }
  return Number(text);
}

function describe(result: SimResult): string {
  const first = result.violations[0];
  return first ? `seed ${result.seed}: ${first.rule} at ${first.at_ms} ms: ${first.detail}` : `seed ${result.seed}: ok`;
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({ options: { seeds: { type: 'string' }, from: { type: 'string' }, seed: { type: 'string' }, trace: { type: 'boolean' } }, strict: true }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}; ${usage}`);
    process.exit(2);
  }
  if (values.seed !== undefined) {
    const seed = parseCount('seed', values.seed, 0);
    const result = runSimulation({ seed, trace: values.trace === true });
    for (const line of result.trace ?? []) console.log(line);
    console.log(JSON.stringify(result.stats));
    for (const violation of result.violations) console.log(`VIOLATION ${violation.rule} at ${violation.at_ms} ms: ${violation.detail}`);
    console.log(describe(result));
    process.exit(result.ok ? 0 : 1);
  }
  const count = parseCount('seeds', values.seeds, 100);
  const from = parseCount('from', values.from, 1);
  const started_ms = performance.now();
  let failures = 0;
  let first_failure: SimResult | undefined;
  let acknowledged = 0;
  for (let seed = from; seed < from + count; seed += 1) {
    const result = runSimulation({ seed });
    acknowledged += result.stats.acknowledged;
    if (!result.ok) {
      failures += 1;
      first_failure ??= result;
    }
  }
  const seconds = ((performance.now() - started_ms) / 1000).toFixed(1);
  console.log(`simulation: ${count} seeds (${from}..${from + count - 1}) in ${seconds} s, ${acknowledged} commits acknowledged, ${failures} failed${first_failure ? `; first: ${describe(first_failure)}` : ''}`);
  process.exit(failures === 0 ? 0 : 1);
}

main();

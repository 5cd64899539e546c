/**
 * The simulation's command line (`npm run sim -- …`):
 *   --seeds N [--from S]           sweep seeds S..S+N-1 (default 100 from 1)
 *   --seed S [--trace]             replay one seed, print its trace
 *   --bugs                         list the planted bugs, one a line
 *   --bug NAME --seeds N           sweep with one planted bug switched on: it must be caught
 * Prints one summary line; exits 1 if any seed broke an invariant, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { runSimulation, sweepSeeds, type SimResult } from './runner.ts';
import { isPlantedBugName, planted_bug_names } from '../node/planted-bugs.ts';

const usage = 'usage: main.ts --seeds N [--from S] [--bug NAME] | --seed S [--trace] [--bug NAME] | --bugs';

function fail(message: string): never {
  console.error(`${message}; ${usage}`);
  process.exit(2);
}

function parseCount(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function describe(result: SimResult): string {
  const first = result.violations[0];
  return first ? `seed ${result.seed}: ${first.rule} at ${first.at_ms} ms: ${first.detail}` : `seed ${result.seed}: ok`;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { seeds: { type: 'string' }, from: { type: 'string' }, seed: { type: 'string' }, trace: { type: 'boolean' }, bugs: { type: 'boolean' }, bug: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.bugs === true) {
    for (const name of planted_bug_names) console.log(name);
    return;
  }
  const bug = values.bug;
  if (bug !== undefined && !isPlantedBugName(bug)) fail(`--bug must name a planted bug (--bugs lists them), got ${JSON.stringify(bug)}`);
  const bugs = bug === undefined ? {} : { [bug]: true };
  if (values.seed !== undefined) {
    const seed = parseCount('seed', values.seed, 0);
    const result = await runSimulation({ seed, bugs, trace: values.trace === true });
    for (const line of result.trace ?? []) console.log(line);
    console.log(JSON.stringify(result.stats));
    for (const violation of result.violations) console.log(`VIOLATION ${violation.rule} at ${violation.at_ms} ms: ${violation.detail}`);
    console.log(describe(result));
    process.exit(result.ok ? 0 : 1);
  }
  const count = parseCount('seeds', values.seeds, 100);
  const from = parseCount('from', values.from, 1);
  const started_ms = performance.now();
  const results = await sweepSeeds(from, count, { bugs }, bug !== undefined);
  const failed = results.filter((result) => !result.ok);
  const failures = failed.length;
  const first_failure = failed[0];
  const acknowledged = results.reduce((sum, result) => sum + result.stats.acknowledged, 0);
  const seconds = ((performance.now() - started_ms) / 1000).toFixed(1);
  const swept = bug === undefined ? `${count} seeds (${from}..${from + count - 1})` : `bug ${bug}, ${results.length} seeds from ${from}`;
  console.log(`simulation: ${swept} in ${seconds} s, ${acknowledged} commits acknowledged, ${failures} failed${first_failure ? `; first: ${describe(first_failure)}` : ''}`);
  process.exit(failures === 0 ? 0 : 1);
}

await main();

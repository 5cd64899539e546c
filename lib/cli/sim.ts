/**
 * The simulation's command line (`npm run sim -- …`; the simulation runs from the sources, so
 * neither this file nor lib/simulation is in the build):
 *   --seeds N [--from S]           sweep seeds S..S+N-1 (default 100 from 1)
 *   --seed S [--trace]             replay one seed, print its trace
 *   --bugs                         list the planted bugs, one a line
 *   --bug NAME --seeds N           sweep with one planted bug switched on: it must be caught
 * Prints one summary line; exits 1 if any seed broke an invariant, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { runSimulation, sweepSeeds, type SimResult } from '../simulation/runner.ts';
import { isPlantedBugName, planted_bug_names } from '../node/planted-bugs.ts';
import { describeError, exit_codes, exitCodeOf, UsageError } from './exit.ts';
import { flagInteger } from './flags.ts';

const usage = 'usage: npm run sim -- --seeds N [--from S] [--bug NAME] | --seed S [--trace] [--bug NAME] | --bugs';
const seed_max = 2 ** 32 - 1;

function describe(result: SimResult): string {
  const first = result.violations[0];
  return first ? `seed ${result.seed}: ${first.rule} at ${first.at_ms} ms: ${first.detail}` : `seed ${result.seed}: ok`;
}

function readFlags() {
  try {
    return parseArgs({ options: { seeds: { type: 'string' }, from: { type: 'string' }, seed: { type: 'string' }, trace: { type: 'boolean' }, bugs: { type: 'boolean' }, bug: { type: 'string' } } }).values;
  } catch (error) {
    throw new UsageError(describeError(error));
  }
}

async function main(): Promise<number> {
  const values = readFlags();
  if (values.bugs === true) {
    for (const name of planted_bug_names) console.log(name);
    return exit_codes.ok;
  }
  const { bug } = values;
  if (bug !== undefined && !isPlantedBugName(bug)) throw new UsageError(`--bug must name a planted bug (--bugs lists them), got "${bug}"`);
  const bugs = bug === undefined ? {} : { [bug]: true };
  if (values.seed !== undefined) {
    const result = await runSimulation({ seed: flagInteger(values.seed, '--seed', 0, seed_max), bugs, trace: values.trace === true });
    for (const line of result.trace ?? []) console.log(line);
    console.log(JSON.stringify(result.stats));
    for (const violation of result.violations) console.log(`VIOLATION ${violation.rule} at ${violation.at_ms} ms: ${violation.detail}`);
    console.log(describe(result));
    return result.ok ? exit_codes.ok : exit_codes.failed;
  }
  const count = values.seeds === undefined ? 100 : flagInteger(values.seeds, '--seeds', 0, seed_max);
  const from = values.from === undefined ? 1 : flagInteger(values.from, '--from', 0, seed_max);
  const started_ms = performance.now();
  const results = await sweepSeeds(from, count, { bugs }, bug !== undefined);
  const failed = results.filter((result) => !result.ok);
  const acknowledged = results.reduce((sum, result) => sum + result.stats.acknowledged, 0);
  const seconds = ((performance.now() - started_ms) / 1000).toFixed(1);
  const swept = bug === undefined ? `${count} seeds (${from}..${from + count - 1})` : `bug ${bug}, ${results.length} seeds from ${from}`;
  console.log(`simulation: ${swept} in ${seconds} s, ${acknowledged} commits acknowledged, ${failed.length} failed${failed[0] ? `; first: ${describe(failed[0])}` : ''}`);
  return failed.length === 0 ? exit_codes.ok : exit_codes.failed;
}

process.exit(
  await main().catch((error: unknown) => {
    if (!(error instanceof UsageError)) throw error;
    console.error(`sim: ${describeError(error)}; ${usage}`);
    return exitCodeOf(error);
  }),
);

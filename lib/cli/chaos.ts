/**
 * `twopc chaos`: run fault scenarios against a real cluster of node processes and print the
 * checker's table (or one JSON object). Exit 0 only with zero anomalies, 1 with any, 2 for
 * bad usage such as an unknown scenario.
 */
import { anomalySum, formatReport, reportJson, totalAnomalies } from '../chaos/report.ts';
import { emergencyCleanup, runCampaign } from '../chaos/run-chaos.ts';
import { findScenario, scenario_names, scenarios, type Scenario } from '../chaos/scenarios.ts';
import { exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, flagSwitch, optionalText, type RawFlags } from './flags.ts';
import { printJson, printLine, warnLine } from './output.ts';

const runs_max = 1_000;
const seed_max = 4_294_967_295;

/** `--scenario all`, one name, or several names separated by commas (in the order given). */
function chooseScenarios(raw: unknown): readonly Scenario[] {
  const text = optionalText(raw, '--scenario') ?? 'all';
  if (text === 'all') return scenarios;
  return text.split(',').map((name) => {
    const scenario = findScenario(name.trim());
    if (!scenario) throw new UsageError(`unknown scenario "${name.trim()}"; valid: all, ${scenario_names.join(', ')}`);
    return scenario;
  });
}

/** Ctrl-C or SIGTERM: kill every node and remove every namespace before leaving. */
function cleanUpOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      warnLine(`twopc chaos: ${signal}, stopping every node`);
      emergencyCleanup();
      process.exit(130);
    });
  }
  process.once('exit', emergencyCleanup);
}

export async function runChaos(raw: RawFlags): Promise<ExitCode> {
  const chosen = chooseScenarios(raw['scenario']);
  const runs = raw['runs'] === undefined ? 1 : flagInteger(raw['runs'], '--runs', 1, runs_max);
  const seed = raw['seed'] === undefined ? Date.now() % seed_max : flagInteger(raw['seed'], '--seed', 0, seed_max);
  const json = flagSwitch(raw['json']);
  cleanUpOnSignals();
  warnLine(`twopc chaos: seed ${seed}, ${chosen.length} scenario(s) × ${runs} run(s)`);
  const rows = await runCampaign({ scenarios: chosen, runs, seed, progress: warnLine });
  if (json) printJson(reportJson(rows, seed));
  else printLine(formatReport(rows, seed));
  return anomalySum(totalAnomalies(rows)) === 0 ? exit_codes.ok : exit_codes.failed;
}

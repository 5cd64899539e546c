/**
 * The chaos campaign's results: one row per scenario (its runs summed), the checker's table
 * as text, and the `--json` object.
 */
import { formatTable } from '../util/text-table.ts';
import { addCounts, anomaly_kinds, zeroCounts, type AnomalyCounts, type Finding } from './checker.ts';

export interface RunCounts {
  readonly attempted: number;
  readonly committed: number;
  readonly aborted: number;
  readonly indeterminate: number;
  readonly faults: number;
  readonly failovers: number;
  readonly anomalies: AnomalyCounts;
  readonly findings: readonly Finding[];
}

export type RunResult = ({ readonly kind: 'ran' } & RunCounts) | { readonly kind: 'skipped'; readonly reason: string };

export type ScenarioRow =
  | ({ readonly name: string; readonly runs: number } & RunCounts)
  | { readonly name: string; readonly skipped: string };

/** Findings kept per scenario in the JSON output. */
const findings_kept_max = 20;

export function summarize(name: string, results: readonly RunResult[]): ScenarioRow {
  const ran = results.filter((result): result is Extract<RunResult, { kind: 'ran' }> => result.kind === 'ran');
  const skipped = results.find((result): result is Extract<RunResult, { kind: 'skipped' }> => result.kind === 'skipped');
  if (ran.length === 0 && skipped) return { name, skipped: skipped.reason };
  const anomalies = zeroCounts();
  for (const result of ran) addCounts(anomalies, result.anomalies);
  const sum = (field: 'attempted' | 'committed' | 'aborted' | 'indeterminate' | 'faults' | 'failovers') => ran.reduce((total, result) => total + result[field], 0);
  return {
    name,
    runs: ran.length,
    attempted: sum('attempted'),
    committed: sum('committed'),
    aborted: sum('aborted'),
    indeterminate: sum('indeterminate'),
    faults: sum('faults'),
    failovers: sum('failovers'),
    anomalies,
    findings: ran.flatMap((result) => result.findings).slice(0, findings_kept_max),
  };
}

export function totalAnomalies(rows: readonly ScenarioRow[]): AnomalyCounts {
  const total = zeroCounts();
  for (const row of rows) if ('anomalies' in row) addCounts(total, row.anomalies);
  return total;
}

export function anomalySum(counts: AnomalyCounts): number {
  return anomaly_kinds.reduce((sum, kind) => sum + counts[kind], 0);
}

const count_columns = ['runs', 'attempted', 'committed', 'aborted', 'indeterminate', 'faults', 'failovers'] as const;

export function formatReport(rows: readonly ScenarioRow[], seed: number): string {
  const headers = ['scenario', ...count_columns, ...anomaly_kinds];
  const body = rows.map((row) =>
    'skipped' in row ? [row.name, 'skipped'] : [row.name, ...count_columns.map((column) => String(row[column])), ...anomaly_kinds.map((kind) => String(row.anomalies[kind]))],
  );
  const ran = rows.filter((row): row is Extract<ScenarioRow, { runs: number }> => !('skipped' in row));
  const total = totalAnomalies(rows);
  const totals = ['total', ...count_columns.map((column) => String(ran.reduce((sum, row) => sum + row[column], 0))), ...anomaly_kinds.map((kind) => String(total[kind]))];
  const lines = [formatTable(headers, [...body, totals])];
  for (const row of rows) if ('skipped' in row) lines.push(`skipped ${row.name}: ${row.skipped}`);
  lines.push(`anomalies: ${anomalySum(total)} (seed ${seed})`);
  return lines.join('\n');
}

export function reportJson(rows: readonly ScenarioRow[], seed: number): unknown {
  const anomalies = totalAnomalies(rows);
  return { anomalies, total: anomalySum(anomalies), scenarios: rows, seed };
}

import { CliError, exit_codes, type ExitCode } from './exit.ts';
import { flagInteger, flagSwitch, type RawFlags } from './flags.ts';
import { watch_interval_default_ms, watchStatus } from './status-watch.ts';
import { cliTransport } from './http.ts';
import { formatStatusTable, readClusterStatus, status_timeout_ms } from './node-status.ts';
import { resolveNodes } from './nodes.ts';
import { printJson, printLine } from './output.ts';

/** `twopc status [--nodes …] [--json] [--watch [--interval MS]]` */
export async function runStatus(raw: RawFlags): Promise<ExitCode> {
  const nodes = resolveNodes(raw['nodes']);
  const interval_ms = raw['interval'] === undefined ? watch_interval_default_ms : flagInteger(raw['interval'], '--interval', 100, 3_600_000);
  if (flagSwitch(raw['watch'])) return watchStatus(nodes, interval_ms, flagSwitch(raw['json']));
  const statuses = await readClusterStatus(cliTransport(), nodes, status_timeout_ms);
  if (flagSwitch(raw['json'])) printJson({ nodes: statuses });
  else printLine(formatStatusTable(statuses));
  if (!statuses.some((status) => status.reachable)) {
    throw new CliError(`no node reachable (${nodes.join(', ')})`, exit_codes.usage);
  }
  return exit_codes.ok;
}

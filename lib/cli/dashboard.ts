/**
 * `twopc dashboard [--nodes …] [--port P]`: serves the live dashboard on loopback
 * (lib/dashboard/dashboard-server.ts) and signs its calls to the cluster with the secret
 * (`--secret-file` or `TWOPC_SECRET`), which never reaches the browser. Runs until Ctrl-C
 * (exit 0).
 */
import { dashboard_host, dashboard_port_default, startDashboardServer } from '../dashboard/dashboard-server.ts';
import { exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, optionalText, type RawFlags } from './flags.ts';
import { resolveNodes } from './nodes.ts';
import { printLine } from './output.ts';
import { readSecret } from './secret.ts';
import { onShutdownSignal } from './signals.ts';

export async function runDashboard(raw: RawFlags): Promise<ExitCode> {
  const nodes = resolveNodes(raw['nodes']);
  const port = raw['port'] === undefined ? dashboard_port_default : flagInteger(raw['port'], '--port', 0, 65_535);
  const secret = readSecret(optionalText(raw['secretFile'], '--secret-file'));
  const server = await startDashboardServer({ nodes, port, ...(secret !== undefined && { secret }) }).catch((error: unknown) => {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`cannot listen on ${dashboard_host}:${port} (${code}): pick another --port`);
  });
  const signing = secret === undefined ? 'unsigned: the cluster has no secret here' : 'calls to the nodes signed with the cluster secret';
  printLine(`twopc dashboard on ${server.url} for ${nodes.join(',')} (${signing}); Ctrl-C to stop`);
  await onShutdownSignal();
  await server.close();
  return exit_codes.ok;
}

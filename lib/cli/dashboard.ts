/**
 * `twopc dashboard [--nodes …] [--port P]`: serves the live dashboard on loopback
 * (lib/dashboard/dashboard-server.ts) and signs its calls to the cluster with the secret
 * (`--secret-file`, `TWOPC_SECRET_FILE` or `TWOPC_SECRET`), which never reaches the browser.
 * Runs until Ctrl-C (exit 0). `--host` binds elsewhere than loopback, for a container whose
 * port is published on the host's loopback only; it warns, since whoever reaches that address
 * reads the cluster through it.
 */
import { dashboard_host, dashboard_port_default, startDashboardServer } from '../dashboard/dashboard-server.ts';
import { exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, optionalText, type RawFlags } from './flags.ts';
import { isLoopbackHost } from '../security/bind-policy.ts';
import { resolveNodes } from './nodes.ts';
import { printLine, warnLine } from './output.ts';
import { readSecret } from './secret.ts';
import { onShutdownSignal } from './signals.ts';

export async function runDashboard(raw: RawFlags): Promise<ExitCode> {
  const nodes = resolveNodes(raw['nodes']);
  const port = raw['port'] === undefined ? dashboard_port_default : flagInteger(raw['port'], '--port', 0, 65_535);
  const host = optionalText(raw['host'], '--host') ?? dashboard_host;
  const secret = readSecret(optionalText(raw['secretFile'], '--secret-file'));
  const server = await startDashboardServer({ nodes, port, host, ...(secret !== undefined && { secret }) }).catch((error: unknown) => {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`cannot listen on ${host}:${port} (${code}): pick another --port or --host`);
  });
  if (!isLoopbackHost(host)) warnLine(`twopc: the dashboard listens on ${host}, not loopback: whoever reaches it reads the cluster through it (publish its port on loopback only)`);
  const signing = secret === undefined ? 'unsigned: the cluster has no secret here' : 'calls to the nodes signed with the cluster secret';
  printLine(`twopc dashboard on ${server.url} for ${nodes.join(',')} (${signing}); Ctrl-C to stop`);
  await onShutdownSignal();
  await server.close();
  return exit_codes.ok;
}

/**
 * `twopc health [--node HOST:PORT]`: asks one node's `GET /health` (signed when the CLI has the
 * secret) and exits 0 only when it is serving: what a container's HEALTHCHECK and a
 * Kubernetes readiness probe run, since under a cluster secret an unsigned probe gets 401.
 * The node defaults to env `TWOPC_ADDR` (the name `start-node` takes from it), else
 * 127.0.0.1:8081. Exit 0 serving · 1 it answered but is not serving (starting, catching up,
 * cut off from the majority, or it refused the request) · 2 no answer, or bad usage.
 */
import { exit_codes, type ExitCode } from './exit.ts';
import { optionalText, type RawFlags } from './flags.ts';
import { answerReason, isRecord } from '../client/answer.ts';
import { cliTransport } from './http.ts';
import { parseAddr } from './nodes.ts';
import { printLine, warnLine } from './output.ts';

/** How long the probe waits for the node's answer. */
export const health_timeout_ms = 3_000;
const health_node_default = '127.0.0.1:8081';

export async function runHealth(raw: RawFlags, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const node = parseAddr(optionalText(raw['node'], '--node') ?? (env['TWOPC_ADDR']?.trim() || health_node_default)).addr;
  const result = await cliTransport().request(node, '/health', { timeout_ms: health_timeout_ms });
  if (result.kind !== 'answer') {
    warnLine(`twopc: ${node} did not answer: ${result.reason}`);
    return exit_codes.usage;
  }
  if (result.status === 200 && isRecord(result.body)) {
    const { role, epoch, last_sequence } = result.body;
    printLine(`${node} serving: ${String(role)}, epoch ${String(epoch)}, sequence ${String(last_sequence)}`);
    return exit_codes.ok;
  }
  warnLine(`twopc: ${node} is not serving: ${answerReason(result.status, result.body)}`);
  return exit_codes.failed;
}

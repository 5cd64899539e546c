/**
 * `twopc verify [--nodes …] [--json]`: compare every replica's digest of what it applied. It
 * reads each node's last sequence, picks the highest sequence every answering node has
 * applied, and asks each for a full audit at that sequence (`GET /cluster/digest?sequence=S`:
 * the digest recomputed from its rows, every kv row checked against the log). Per node it
 * prints its last sequence, its digest at S and a verdict: `ok` (the majority's digest, no
 * problem), `differs` (another digest than the majority's), `damaged` (its rows contradict
 * each other), `unreachable`. A node that differs or is damaged repairs itself (it pulls a
 * clean copy). Exit 0 only when every node is ok; 1 otherwise; 2 when none answers.
 */
import { CliError, exit_codes, type ExitCode } from './exit.ts';
import { flagSwitch, type RawFlags } from './flags.ts';
import { cliTransport } from './http.ts';
import { resolveNodes } from './nodes.ts';
import { printJson, printLine } from './output.ts';
import { formatTable } from '../util/text-table.ts';
import type { HttpResult } from '../client/http.ts';

/** Timeout of one node's audit: it reads the whole store. */
export const verify_timeout_ms = 30_000;

export type VerifyVerdict = 'ok' | 'differs' | 'damaged' | 'unreachable';

export interface NodeDigest {
  readonly addr: string;
  readonly last_sequence?: number;
  readonly sequence?: number;
  readonly digest?: string;
  readonly problems?: readonly string[];
  readonly error?: string;
}

export interface VerifiedNode extends NodeDigest {
  readonly verdict: VerifyVerdict;
}

/** The verdicts: the digest most nodes hold is the majority's only if more than half of all nodes hold it. */
export function judgeReplicas(digests: readonly NodeDigest[]): readonly VerifiedNode[] {
  const counts = new Map<string, number>();
  for (const node of digests) if (node.digest !== undefined) counts.set(node.digest, (counts.get(node.digest) ?? 0) + 1);
  const [top] = [...counts].sort((a, b) => b[1] - a[1]);
  const majority = top !== undefined && top[1] * 2 > digests.length ? top[0] : undefined;
  return digests.map((node): VerifiedNode => {
    if (node.digest === undefined) return { ...node, verdict: 'unreachable' };
    if ((node.problems ?? []).length > 0) return { ...node, verdict: 'damaged' };
    return { ...node, verdict: node.digest === majority ? 'ok' : 'differs' };
  });
}

export async function runVerify(raw: RawFlags): Promise<ExitCode> {
  const nodes = resolveNodes(raw['nodes']);
  const transport = cliTransport();
  const healths = await Promise.all(nodes.map((addr) => transport.request(addr, '/health', { timeout_ms: 3_000 })));
  const sequences = healths.flatMap((result) => (result.kind === 'answer' && isRecord(result.body) && typeof result.body['last_sequence'] === 'number' ? [result.body['last_sequence']] : []));
  if (sequences.length === 0) throw new CliError(`no node reachable (${nodes.join(', ')})`, exit_codes.usage);
  const at = Math.min(...sequences);
  const answers = await Promise.all(nodes.map((addr) => transport.request(addr, `/cluster/digest?sequence=${at}`, { timeout_ms: verify_timeout_ms })));
  const verified = judgeReplicas(nodes.map((addr, index) => readDigest(addr, answers[index]!, healths[index]!)));
  transport.close();
  if (flagSwitch(raw['json'])) printJson({ sequence: at, nodes: verified });
  else {
    printLine(`digests at sequence ${at}`);
    printLine(formatTable(['ADDRESS', 'LAST SEQUENCE', 'DIGEST', 'VERDICT'], verified.map((node) => [node.addr, node.last_sequence === undefined ? '-' : String(node.last_sequence), node.digest?.slice(0, 16) ?? '-', describeVerdict(node)])));
  }
  return verified.every((node) => node.verdict === 'ok') ? exit_codes.ok : exit_codes.failed;
}

function readDigest(addr: string, answer: HttpResult, health: HttpResult): NodeDigest {
  const last_sequence = health.kind === 'answer' && isRecord(health.body) && typeof health.body['last_sequence'] === 'number' ? health.body['last_sequence'] : undefined;
  if (answer.kind !== 'answer') return { addr, error: answer.reason, ...(last_sequence !== undefined && { last_sequence }) };
  const body = answer.body;
  if (answer.status !== 200 || !isRecord(body) || typeof body['digest'] !== 'string') {
    const error = isRecord(body) && typeof body['error'] === 'string' ? body['error'] : `answered ${answer.status}`;
    return { addr, error, ...(last_sequence !== undefined && { last_sequence }) };
  }
  const problems = Array.isArray(body['problems']) ? body['problems'].map(String) : [];
  return { addr, digest: body['digest'], problems, ...(typeof body['sequence'] === 'number' && { sequence: body['sequence'] }), ...(last_sequence !== undefined && { last_sequence }) };
}

function describeVerdict(node: VerifiedNode): string {
  if (node.verdict === 'damaged') return `damaged (repairing): ${node.problems?.[0] ?? ''}`;
  if (node.verdict === 'differs') return 'differs from the majority (repairing)';
  if (node.verdict === 'unreachable') return `no digest: ${node.error ?? 'no answer'}`;
  return 'ok';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import * as v from 'valibot';
import { KeySchema } from '../protocol/payload.ts';
import { CliError, exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagSwitch, positional, type RawFlags } from './flags.ts';
import { answerReason, getJson, isRecord } from './http.ts';
import { findMaster } from './master.ts';
import { resolveNodes } from './nodes.ts';
import { printJson, printLine } from './output.ts';

/** Timeout of each call made by `get`. */
export const get_timeout_ms = 2_000;

/** `twopc get KEY [--nodes …] [--json]`: the master's copy if there is one, else any node's. */
export async function runGet(rawKey: unknown, raw: RawFlags): Promise<ExitCode> {
  const key = parseKey(positional(rawKey, 'KEY'));
  const nodes = resolveNodes(raw['nodes']);
  const search = await findMaster(nodes, get_timeout_ms);
  const order = search.kind === 'found' ? [search.master, ...nodes.filter((addr) => addr !== search.master)] : nodes;
  const failures: string[] = [];
  for (const addr of order) {
    const result = await getJson(addr, `/kv/${encodeURIComponent(key)}`, get_timeout_ms);
    if (result.kind !== 'answer') {
      failures.push(`${addr}: ${result.reason}`);
      continue;
    }
    if (result.status === 404) throw new CliError(`key not found: ${key}`, exit_codes.failed);
    if (result.status === 200 && isRecord(result.body)) {
      if (flagSwitch(raw['json'])) printJson(result.body);
      else printLine(JSON.stringify(result.body['value']));
      return exit_codes.ok;
    }
    failures.push(`${addr}: ${answerReason(result.status, result.body)}`);
  }
  throw new CliError(`could not read ${key}: ${failures.join('; ')}`, exit_codes.usage);
}

function parseKey(key: string): string {
  const parsed = v.safeParse(KeySchema, key);
  if (!parsed.success) throw new UsageError(`bad KEY: ${parsed.issues[0].message}`);
  return parsed.output;
}

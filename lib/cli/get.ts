import { BadInputError, NotServedError, UnreachableError } from '../client/errors.ts';
import { masterFirst, readKey } from '../client/read.ts';
import { CliError, exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, flagSwitch, optionalText, positional, type RawFlags } from './flags.ts';
import { cliTransport } from './http.ts';
import { parseAddr, resolveNodes } from './nodes.ts';
import { printJson, printLine, warnLine } from './output.ts';

/**
 * `twopc get KEY [--nodes …] [--node ADDR] [--min-sequence S] [--json]`: the master's copy
 * if there is one, else any node's. A value from a node that is catching up or cut off from
 * the majority is printed with a warning on stderr: it may be stale.
 */
export async function runGet(rawKey: unknown, raw: RawFlags): Promise<ExitCode> {
  const key = positional(rawKey, 'KEY');
  const nodes = resolveNodes(raw['nodes']);
  const node = optionalText(raw['node'], '--node');
  if (node !== undefined) parseAddr(node);
  const min_sequence = raw['minSequence'] === undefined ? undefined : flagInteger(raw['minSequence'], '--min-sequence', 0, Number.MAX_SAFE_INTEGER);
  const transport = cliTransport();
  try {
    const order = node === undefined ? await masterFirst(transport, { master: undefined }, nodes) : [];
    const read = await readKey(transport, order, key, { ...(node !== undefined && { node }), ...(min_sequence !== undefined && { min_sequence }) });
    const stale = read.kind === 'found' ? read.entry.stale === true : read.stale;
    if (stale) warnLine(`twopc: warning: ${read.node} is not serving (catching up, or cut off from the majority): this answer may be stale`);
    if (read.kind === 'absent') throw new CliError(`key not found: ${key}`, exit_codes.failed);
    if (flagSwitch(raw['json'])) printJson(read.entry);
    else printLine(JSON.stringify(read.entry.value));
    return exit_codes.ok;
  } catch (error) {
    if (error instanceof BadInputError) throw new UsageError(error.message);
    if (error instanceof UnreachableError || error instanceof NotServedError) throw new CliError(error.message, exit_codes.usage);
    throw error;
  } finally {
    transport.close();
  }
}

/**
 * Scripted tests in etcd raft's datadriven style: a script file is a list of commands, each
 * followed by `----` and the output it must give. A handler turns one command into text.
 *
 *   # comment lines start with '#'
 *   command positional key=value key=value
 *   ----
 *   expected output (any number of lines, up to a blank line)
 *
 * The file's first comment line names the test: it says the rule the script shows.
 */
import { readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';

export interface Command {
  readonly name: string;
  readonly positional: readonly string[];
  readonly args: ReadonlyMap<string, string>;
  readonly line: number;
}

interface Step {
  readonly command: Command;
  readonly expected: string;
}

/** The rule a script shows: its first comment line. */
export function readTitle(path: string): string {
  const first = readFileSync(path, 'utf8').split('\n').find((line) => line.startsWith('#'));
  return first?.replace(/^#\s*/, '') ?? path;
}

export function parseScript(text: string): readonly Step[] {
  const lines = text.split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const [name, ...words] = raw.split(/\s+/);
    const positional = words.filter((word) => !word.includes('='));
    const args = new Map(words.filter((word) => word.includes('=')).map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] as const));
    const command: Command = { name: name!, positional, args, line: i + 1 };
    if (lines[i + 1]?.trim() !== '----') throw new Error(`line ${i + 1}: '${raw}' is not followed by ----`);
    const expected: string[] = [];
    for (i += 2; i < lines.length && lines[i]!.trim() !== ''; i += 1) expected.push(lines[i]!.trim());
    steps.push({ command, expected: expected.join('\n') });
  }
  return steps;
}

/** Run every step of the script at `path` through `handle`, asserting each output. */
export function runScript(t: ExecutionContext, path: string, handle: (command: Command) => string): void {
  const steps = parseScript(readFileSync(path, 'utf8'));
  t.true(steps.length > 0, `${path} has steps`);
  for (const { command, expected } of steps) t.is(handle(command), expected, `${path}:${command.line} ${command.name} ${[...command.positional, ...[...command.args].map(([k, v]) => `${k}=${v}`)].join(' ')}`);
}

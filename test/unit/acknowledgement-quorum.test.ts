/**
 * When a commit is safely known (lib/two-phase-commit/acknowledgement-quorum.ts), by script
 * (test/unit/testdata/acknowledgement-quorum.txt, etcd raft's datadriven style): the script
 * drives the real pure rules one acknowledgement at a time.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { completesQuorum, countAcksNeeded, mayAnswerCommitted, mayApplyLocally } from '../../lib/two-phase-commit/acknowledgement-quorum.ts';
import { readTitle, runScript, type Command } from './datadriven.ts';

function createHandler(): (command: Command) => string {
  let commit: { remote: number; needed: number; acks: number; confirmed: boolean } | undefined;
  const mayApply = () => (commit && mayApplyLocally({ remote_recipients: commit.remote, remote_acks: commit.acks }) ? 'the master may apply it' : 'no: no other replica applied it yet');
  return (command) => {
    switch (command.name) {
      case 'commit': {
        const members = Number(command.args.get('members'));
        const remote = Number(command.args.get('remote'));
        const needed = countAcksNeeded(remote, members);
        commit = { remote, needed, acks: 0, confirmed: needed === 0 };
        return `needs ${needed} of ${remote} others: with the master ${needed + 1} of ${members} members`;
      }
      case 'ack': {
        if (!commit) throw new Error(`line ${command.line}: ack before commit`);
        commit.acks += 1;
        const confirms = completesQuorum(commit.acks, commit.needed);
        const verdict = confirms ? 'confirms the run' : commit.confirmed ? 'already confirmed' : 'not confirmed yet';
        if (confirms) commit.confirmed = true;
        const answer = mayAnswerCommitted(commit.acks, commit.needed) ? 'its client may be answered' : 'its client waits';
        return `${commit.acks} of ${commit.remote} applied: ${verdict}; ${mayApply()}; ${answer}`;
      }
      case 'may-apply-here':
        return mayApply();
      default:
        throw new Error(`line ${command.line}: unknown command ${command.name}`);
    }
  };
}

const path = fileURLToPath(new URL('testdata/acknowledgement-quorum.txt', import.meta.url));
test(readTitle(path), (t) => runScript(t, path, createHandler()));

test('a majority of every membership size holds a confirmed commit, and none needs more than a majority', (t) => {
  for (let members = 1; members <= 9; members += 1) {
    const holders = countAcksNeeded(members - 1, members) + 1;
    t.true(holders > members / 2, `${holders} of ${members} is a majority`);
    t.true(holders - 1 <= members / 2, `${holders - 1} of ${members} is not`);
  }
});

/**
 * The pure parts of replica verification (issue 14, item 4): the chained digest, the kv-row
 * check, a node's verdict on its peers' digests, and `twopc verify`'s verdict per node.
 */
import test from 'ava';
import { chainDigest, checkKvRow, extendDigest, origin_mark } from '../../lib/storage/replica-digest.ts';
import { judgeDigest, type DigestComparison } from '../../lib/cluster/digest-vote.ts';
import { judgeReplicas, type NodeDigest } from '../../lib/cli/verify.ts';

test('the digest ignores how a payload spelled its keys, and changes with any value, id or sequence', (t) => {
  const base = chainDigest(origin_mark, { transaction_id: 't1', sequence: 1, payload: { a: 1, b: 'x' } });
  t.is(chainDigest(origin_mark, { transaction_id: 't1', sequence: 1, payload: { b: 'x', a: 1 } }).digest, base.digest);
  for (const other of [
    { transaction_id: 't1', sequence: 1, payload: { a: 2, b: 'x' } },
    { transaction_id: 't2', sequence: 1, payload: { a: 1, b: 'x' } },
    { transaction_id: 't1', sequence: 1, payload: { a: 1, b: 'x', c: null } },
  ]) {
    t.not(chainDigest(origin_mark, other).digest, base.digest, JSON.stringify(other));
  }
});

test('a digest covers a contiguous prefix or nothing', (t) => {
  const entries = [1, 2, 4].map((sequence) => ({ transaction_id: `t${sequence}`, sequence, payload: { k: sequence } }));
  t.is(extendDigest(origin_mark, entries, 2).sequence, 2);
  t.throws(() => extendDigest(origin_mark, entries, 4), { message: /no committed transaction at sequence 3/ });
});

// The running digest keeps the mark of every sequence it extends over (lib/node/replica-integrity.ts),
// so a peer's report at any of them is compared without reading the rows again.
test('extending a digest tells every mark on the way, each the digest of its own prefix', (t) => {
  const entries = [1, 2, 3, 4, 5].map((sequence) => ({ transaction_id: `t${sequence}`, sequence, payload: { k: sequence, [`only${sequence}`]: [sequence] } }));
  const start = extendDigest(origin_mark, entries, 2);
  const heard: { sequence: number; digest: string }[] = [];
  const end = extendDigest(start, entries.slice(2), 5, (mark) => heard.push(mark));
  t.deepEqual(heard.map((mark) => mark.sequence), [3, 4, 5]);
  for (const mark of heard) t.is(mark.digest, extendDigest(origin_mark, entries, mark.sequence).digest, `sequence ${mark.sequence}`);
  t.deepEqual(heard.at(-1), end);
});

const writer = { transaction_id: 't9', sequence: 9, payload: { a: { n: 1 }, gone: null } };
const kv_rows: readonly [string, string | null, number, typeof writer | undefined, RegExp | undefined][] = [
  ['a', '{"n":1}', 9, writer, undefined],
  ['gone', null, 9, writer, undefined],
  ['a', '{"n":2}', 9, writer, /holds something else/],
  ['gone', '1', 9, writer, /holds something else/],
  ['b', '1', 9, writer, /did not write it/],
  ['a', '{"n":1}', 10, undefined, /no committed transaction holds/],
];
for (const [key, stored, sequence, entry, problem] of kv_rows) {
  test(`kv row ${key}=${stored} at ${sequence}: ${problem ?? 'agrees with the log'}`, (t) => {
    const found = checkKvRow(key, stored, sequence, entry);
    if (problem === undefined) t.is(found, undefined);
    else t.regex(found ?? '', problem);
  });
}

const comparison = (peer: string, own: string, theirs: string, sequence = 5): DigestComparison => ({ peer, sequence, own_digest: own, peer_digest: theirs });
const votes: readonly [string, readonly DigestComparison[], number, 'agrees' | 'outvoted'][] = [
  ['everyone agrees', [comparison('b', 'x', 'x'), comparison('c', 'x', 'x')], 3, 'agrees'],
  ['one peer of two disagrees: that peer is the odd one', [comparison('b', 'x', 'y'), comparison('c', 'x', 'x')], 3, 'agrees'],
  ['both peers disagree: this node is the odd one', [comparison('b', 'x', 'y'), comparison('c', 'x', 'y')], 3, 'outvoted'],
  ['two of four peers disagree in five: not a majority', [comparison('b', 'x', 'y'), comparison('c', 'x', 'y'), comparison('d', 'x', 'x')], 5, 'agrees'],
  ['three of five disagree', [comparison('b', 'x', 'y'), comparison('c', 'x', 'y'), comparison('d', 'x', 'y')], 5, 'outvoted'],
  ['nothing to compare', [], 3, 'agrees'],
];
for (const [name, comparisons, members, expected] of votes) {
  test(`digest vote: ${name}`, (t) => {
    t.is(judgeDigest(comparisons, members).kind, expected);
  });
}

const node = (addr: string, digest?: string, problems: readonly string[] = []): NodeDigest => ({ addr, ...(digest !== undefined && { digest }), problems });
const verdicts: readonly [string, readonly NodeDigest[], readonly string[]][] = [
  ['all agree', [node('a', 'x'), node('b', 'x'), node('c', 'x')], ['ok', 'ok', 'ok']],
  ['one differs', [node('a', 'x'), node('b', 'y'), node('c', 'x')], ['ok', 'differs', 'ok']],
  ['one damaged', [node('a', 'x'), node('b', 'x', ['kv row']), node('c', 'x')], ['ok', 'damaged', 'ok']],
  ['one unreachable', [node('a', 'x'), node('b'), node('c', 'x')], ['ok', 'unreachable', 'ok']],
  ['no majority: nobody is ok', [node('a', 'x'), node('b', 'y'), node('c')], ['differs', 'differs', 'unreachable']],
];
for (const [name, digests, expected] of verdicts) {
  test(`verify verdicts: ${name}`, (t) => {
    t.deepEqual(judgeReplicas(digests).map((verified) => verified.verdict), expected);
  });
}

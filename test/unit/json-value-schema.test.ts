/**
 * The payload schema's fast path for JSON values (lib/protocol/payload.ts) must refuse
 * exactly what the plain valibot union refuses, with the same words and paths, and output
 * what it outputs. The union below is the schema as it was written before the fast path:
 * every case, hand-picked and generated, is parsed by both and compared.
 */
import test from 'ava';
import * as v from 'valibot';
import { KeySchema, PayloadSchema, reserved_keys, payload_max_keys, type JsonValue } from '../../lib/protocol/payload.ts';
import { parseMessage, WirePrepareBatchRequestSchema } from '../../lib/protocol/messages.ts';

const UnionJsonValueSchema: v.GenericSchema<JsonValue> = v.lazy(() =>
  v.union([
    v.null(),
    v.boolean(),
    v.pipe(v.number(), v.finite('numbers must be finite')),
    v.string(),
    v.array(UnionJsonValueSchema),
    v.record(v.string(), UnionJsonValueSchema),
  ]),
);

const UnionPayloadSchema = v.pipe(
  v.custom<Record<string, unknown>>((input) => typeof input === 'object' && input !== null && !Array.isArray(input), 'payload must be a JSON object'),
  v.check((p) => Object.keys(p).every((key) => !reserved_keys.has(key)), 'payload uses a reserved key (__proto__, constructor or prototype)'),
  v.record(KeySchema, UnionJsonValueSchema, 'payload must be a JSON object'),
  v.check((p) => Object.keys(p).length >= 1, 'payload must write at least one key'),
  v.check((p) => Object.keys(p).length <= payload_max_keys, `payload may write at most ${payload_max_keys} keys`),
);

/** What a parse says, comparable: success and output, or every issue's message and path. */
function outcome(schema: v.GenericSchema, input: unknown): unknown {
  const result = v.safeParse(schema, input);
  if (result.success) return { ok: true, output: result.output };
  return { ok: false, issues: result.issues.map((issue) => ({ message: issue.message, path: issue.path?.map((item) => item.key) })) };
}

function nest(levels: number, inner: unknown, kind: 'array' | 'object'): unknown {
  let value = inner;
  for (let level = 0; level < levels; level += 1) value = kind === 'array' ? [value] : { k: value };
  return value;
}

class Point {
  constructor(readonly x: number) {}
}

const sparse: unknown[] = [1];
sparse[3] = 2;
const array_like = Object.create(Array.prototype) as unknown[];
const with_getter = Object.defineProperty({}, 'g', { enumerable: true, get: () => 1e999 });
const null_prototype = Object.assign(Object.create(null) as object, { a: 1 });

/** Values of a payload key: accepted ones and every way found to be refused or rewritten. */
const values: readonly (readonly [string, unknown])[] = [
  ['null', null],
  ['true', true],
  ['a string', 'twopc bench'],
  ['zero', 0],
  ['a negative fraction', -1.5],
  ['the largest double', Number.MAX_VALUE],
  ['an object', { note: 'twopc bench', n: [1, 2, { deep: [null, false] }] }],
  ['an empty object and array', { a: {}, b: [] }],
  ['1e999 parsed (Infinity)', JSON.parse('{"a":1e999}')],
  ['-1e999 deep inside', JSON.parse('{"a":{"b":[1,{"c":[-1e999]}]}}')],
  ['NaN', Number.NaN],
  ['NaN in an array', [1, Number.NaN]],
  ['undefined inside an object', { a: undefined }],
  ['undefined inside an array', [undefined]],
  ['a sparse array', sparse],
  ['an object on the array prototype, not an array', array_like],
  ['__proto__ as an own key (JSON.parse)', JSON.parse('{"__proto__":{"x":1},"y":2}')],
  ['constructor as a key (dropped by the union)', { constructor: 1, y: 2 }],
  ['prototype as a nested key', { a: { prototype: [1] } }],
  ['a Date', new Date(0)],
  ['a Map', new Map([['a', 1]])],
  ['a class instance', new Point(1)],
  ['an object without prototype', null_prototype],
  ['a function', () => 1],
  ['a symbol', Symbol('s')],
  ['a bigint', 10n],
  ['an enumerable getter giving Infinity', with_getter],
  ['60 nested arrays', nest(60, 1, 'array')],
  ['70 nested arrays (past the fast path depth)', nest(70, 'x', 'array')],
  ['70 nested objects with Infinity at the bottom', nest(70, Number.POSITIVE_INFINITY, 'object')],
  ['70 nested objects with a Date at the bottom', nest(70, new Date(0), 'object')],
];

for (const [name, value] of values) {
  test(`a payload value that is ${name}: the fast path answers as the union does`, (t) => {
    t.deepEqual(outcome(PayloadSchema, { key: value }), outcome(UnionPayloadSchema, { key: value }));
    t.deepEqual(outcome(PayloadSchema, { other: 1, key: [value] }), outcome(UnionPayloadSchema, { other: 1, key: [value] }));
  });
}

/** A seeded generator (mulberry32), so a failure names the value it found. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const leaves: readonly unknown[] = [null, true, false, 0, 7, -2.5, '', 'x', Number.POSITIVE_INFINITY, Number.NaN, undefined, new Date(0), 10n];
const keys: readonly string[] = ['a', 'b', 'constructor', '__proto__', 'prototype', 'k k', ''];

function generate(next: () => number, depth: number): unknown {
  const roll = next();
  if (depth > 4 || roll < 0.4) {
    // Mostly values JSON.parse could give; now and then one the union refuses or rewrites.
    const leaf = leaves[Math.floor(next() * leaves.length)];
    return next() < 0.8 ? leaves[Math.floor(next() * 7)] : leaf;
  }
  const size = Math.floor(next() * 4);
  if (roll < 0.7) return Array.from({ length: size }, () => generate(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let index = 0; index < size; index += 1) {
    const key = next() < 0.9 ? `k${index}` : (keys[Math.floor(next() * keys.length)] as string);
    if (key === '__proto__') Object.defineProperty(object, key, { value: generate(next, depth + 1), enumerable: true, configurable: true, writable: true });
    else object[key] = generate(next, depth + 1);
  }
  return object;
}

test('5,000 generated payload values: the fast path answers as the union does, refusals and outputs alike', (t) => {
  const next = random(13);
  let refused = 0;
  for (let index = 0; index < 5_000; index += 1) {
    const payload = { key: generate(next, 0) };
    const expected = outcome(UnionPayloadSchema, payload);
    t.deepEqual(outcome(PayloadSchema, payload), expected, `value ${index}`);
    if ((expected as { ok: boolean }).ok === false) refused += 1;
  }
  t.true(refused > 500 && refused < 4_500, `both kinds are generated (${refused} refused)`);
});

test("a peer's batch with 1e999 in one transaction's payload is refused, naming where, in the union's words", (t) => {
  const batch = JSON.parse(
    '{"epoch":2,"coordinator":"127.0.0.1:20001","participants":["127.0.0.1:20001"],"transactions":[{"transaction_id":"a","payload":{"k":{"note":"ok"}}},{"transaction_id":"b","payload":{"k":{"n":[1e999]}}}]}',
  );
  // The union names the outermost value none of its options took whole.
  t.deepEqual(parseMessage(WirePrepareBatchRequestSchema, batch), {
    ok: false,
    error: 'transactions.1.payload.k.n: Invalid type: Expected (null | boolean | number | string | Array | Object) but received Array',
  });
  batch.transactions[1].payload.k = 1e999;
  t.deepEqual(parseMessage(WirePrepareBatchRequestSchema, batch), { ok: false, error: 'transactions.1.payload.k: numbers must be finite' });
  batch.transactions[1].payload.k = { n: [1] };
  t.like(parseMessage(WirePrepareBatchRequestSchema, batch), { ok: true });
});

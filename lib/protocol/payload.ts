import * as v from 'valibot';

/** Longest key accepted, in characters. */
export const key_max_length_chars = 256;
/** Most keys one transaction may write. */
export const payload_max_keys = 1_000;

/** A JSON value as it travels and is stored. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * The writes of one transaction: key → new JSON value; `null` deletes the key.
 * Keys are 1–256 characters. Values are anything JSON.parse can give except that a
 * top-level `null` means "delete".
 */
export type Payload = Readonly<Record<string, JsonValue>>;

export const KeySchema = v.pipe(
  v.string('key must be a string'),
  v.minLength(1, 'key must not be empty'),
  v.maxLength(key_max_length_chars, `key must be at most ${key_max_length_chars} characters`),
  // Control characters garble logs and terminals; a lone surrogate cannot be stored as
  // UTF-8 and would come back as another key.
  v.check((key) => !/[\u0000-\u001f\u007f]/.test(key), 'key must not contain control characters'),
  v.check((key) => !/\p{Surrogate}/u.test(key), 'key must be well-formed Unicode (no lone surrogates)'),
);

const JsonValueSchema: v.GenericSchema<JsonValue> = v.lazy(() =>
  v.union([
    v.null(),
    v.boolean(),
    v.pipe(v.number(), v.finite('numbers must be finite')),
    v.string(),
    v.array(JsonValueSchema),
    v.record(v.string(), JsonValueSchema),
  ]),
);

/**
 * Keys no payload may use: schema libraries drop them silently (prototype pollution guard),
 * so accepting them would write something other than what the client sent.
 */
export const reserved_keys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const PayloadSchema = v.pipe(
  v.custom<Record<string, unknown>>(
    (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
    'payload must be a JSON object',
  ),
  v.check((p) => Object.keys(p).every((key) => !reserved_keys.has(key)), 'payload uses a reserved key (__proto__, constructor or prototype)'),
  v.record(KeySchema, JsonValueSchema, 'payload must be a JSON object'),
  v.check((p) => Object.keys(p).length >= 1, 'payload must write at least one key'),
  v.check((p) => Object.keys(p).length <= payload_max_keys, `payload may write at most ${payload_max_keys} keys`),
);

/** The keys a payload writes, sorted: the order locks are taken and reported in. */
export function listPayloadKeys(payload: Payload): readonly string[] {
  return Object.keys(payload).sort();
}

/** The same writes: equal as JSON, whatever the order of the keys. */
export function isSamePayload(a: Payload | undefined, b: Payload): boolean {
  if (a === undefined) return false;
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(payload: Payload): string {
  return JSON.stringify(Object.keys(payload).sort().map((key) => [key, payload[key]]));
}

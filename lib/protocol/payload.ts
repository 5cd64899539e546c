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

/**
 * A JSON value (the schema of record): null, a boolean, a finite number, a string, or an
 * array or object of JSON values. Valibot runs it per value of every payload; its union
 * tries each option in turn and builds an issue (with its message) for every option that
 * fails, which made it most of the cost of validating a peer's batch (about 10 µs a
 * transaction, bench/README.md "Profile findings").
 */
const json_value_union: v.GenericSchema<JsonValue> = v.union([
  v.null(),
  v.boolean(),
  v.pipe(v.number(), v.finite('numbers must be finite')),
  v.string(),
  v.array(v.lazy(() => JsonValueSchema)),
  v.record(v.string(), v.lazy(() => JsonValueSchema)),
]);

/** Taken as it is: only for values `isPlainJsonValue` approved. */
const plain_json_value = v.custom<JsonValue>(() => true);

/**
 * The union above, with a fast path: a value `isPlainJsonValue` approves is one the union
 * accepts and would output unchanged (a copy equal to it), so it is taken as it is; any
 * other value (one to refuse, or an accepted one the union would change, such as an object
 * with a `constructor` key it drops) goes through the union, which refuses or rewrites it
 * with its own words and paths, level by level.
 */
const JsonValueSchema: v.GenericSchema<JsonValue> = v.lazy((input) => (isPlainJsonValue(input, 0) ? plain_json_value : json_value_union));

/** Deepest a value `isPlainJsonValue` looks; a deeper one is left to the union, level by level. */
const plain_value_depth_max_levels = 64;

/**
 * Whether `value` is a tree of null, booleans, finite numbers, strings, arrays (of
 * Array.prototype) and objects (of Object.prototype, no key valibot drops) of the same, as
 * JSON.parse makes them: exactly what the union accepts and outputs equal to its input.
 */
function isPlainJsonValue(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= plain_value_depth_max_levels) return false;
      const prototype: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (prototype !== Array.prototype) return false;
        const array = value as readonly unknown[];
        for (let index = 0; index < array.length; index += 1) if (!isPlainJsonValue(array[index], depth + 1)) return false;
        return true;
      }
      if (prototype !== Object.prototype) return false;
      const object = value as Readonly<Record<string, unknown>>;
      for (const key of Object.keys(object)) {
        if (reserved_keys.has(key) || !isPlainJsonValue(object[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

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

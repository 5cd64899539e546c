/**
 * What a benchmark request is, for every system it loads: a write of a key no other request
 * writes (twopc's `POST /transactions`, or etcd's JSON gateway `POST /v3/kv/put` with base64
 * key and value), or the hot-key write (2-4 keys from a pool of 24, so concurrent writes
 * overlap). Each workload is written twice, side by side: in TypeScript for our own load
 * generator (load.ts) and in Lua for wrk (wrk.ts), which runs it inside wrk's threads.
 */

/** Connections of the systems table's throughput runs (issue 13: 64 keep-alive connections). */
export const throughput_connections = 64;
/** Connections of the hot-key run. */
export const hot_key_connections = 8;
/** Keys of the hot-key workload's pool, and how many of them one transaction writes. */
export const hot_key_pool_size = 24;
export const hot_key_writes_min = 2;
export const hot_key_writes_max = 4;

export interface Workload {
  readonly name: 'unique-keys' | 'etcd-put' | 'hot-keys';
  readonly path: string;
  /** The body of request `index` of connection `client`; `prefix` is unique to the load run. */
  readonly body: (prefix: string, client: number, index: number) => string;
  /**
   * Lua source defining `make_body(prefix, thread, index)`, the same body as `body` (wrk
   * threads are numbered from 0 like our connections; their indexes count per thread).
   */
  readonly lua: string;
  /**
   * Whether 409 answers (aborts) are counted apart from other failures. With wrk that costs a
   * `response()` callback per answer, so only a workload where aborts are expected asks for it.
   */
  readonly counts_aborts: boolean;
}

const value = { note: 'twopc bench' };
/** The same value as Lua source: JSON within single quotes (it holds none). */
const lua_value = `'${JSON.stringify(value)}'`;

/** Lua: `base64(text)`, standard alphabet with padding (LuaJIT 2.1 has no bit operators built in). */
const lua_base64 = `local base64_alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function base64(text)
  local out = {}
  for i = 1, #text, 3 do
    local a, b, c = text:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local d1, d2, d3, d4 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64, math.floor(n / 64) % 64, n % 64
    out[#out + 1] = base64_alphabet:sub(d1 + 1, d1 + 1) .. base64_alphabet:sub(d2 + 1, d2 + 1)
      .. (b and base64_alphabet:sub(d3 + 1, d3 + 1) or '=') .. (c and base64_alphabet:sub(d4 + 1, d4 + 1) or '=')
  end
  return table.concat(out)
end`;

/** twopc (and the PostgreSQL front, which takes the same body): one fresh key per request. */
export const unique_keys: Workload = {
  name: 'unique-keys',
  path: '/transactions',
  body: (prefix, client, index) => JSON.stringify({ payload: { [`${prefix}-${client}-${index}`]: value } }),
  lua: `function make_body(prefix, thread, index)
  return '{"payload":{"' .. prefix .. '-' .. thread .. '-' .. index .. '":' .. ${lua_value} .. '}}'
end`,
  counts_aborts: false,
};

/** etcd's gRPC gateway: `{"key": base64, "value": base64}`, one fresh key per request. */
export const etcd_put: Workload = {
  name: 'etcd-put',
  path: '/v3/kv/put',
  body: (prefix, client, index) => JSON.stringify({ key: base64(`${prefix}-${client}-${index}`), value: base64(JSON.stringify(value)) }),
  lua: `${lua_base64}
local encoded_value = base64(${lua_value})
function make_body(prefix, thread, index)
  return '{"key":"' .. base64(prefix .. '-' .. thread .. '-' .. index) .. '","value":"' .. encoded_value .. '"}'
end`,
  counts_aborts: false,
};

/** Distinct key numbers 0..pool-1, `count` of them, in random order. */
function pickHotKeys(count: number): number[] {
  const pool = Array.from({ length: hot_key_pool_size }, (_, key) => key);
  for (let i = 0; i < count; i += 1) {
    const j = i + Math.floor(Math.random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] ?? 0, pool[i] ?? 0];
  }
  return pool.slice(0, count);
}

/** Overlapping blind writes: 2-4 distinct keys of a pool of 24 per transaction. */
export const hot_keys: Workload = {
  name: 'hot-keys',
  path: '/transactions',
  body: (prefix, client, index) => {
    const count = hot_key_writes_min + Math.floor(Math.random() * (hot_key_writes_max - hot_key_writes_min + 1));
    const payload = Object.fromEntries(pickHotKeys(count).map((key) => [`${prefix}-hot-${key}`, { client, index }]));
    return JSON.stringify({ payload });
  },
  lua: `function make_body(prefix, thread, index)
  local pool = {}
  for key = 0, ${hot_key_pool_size - 1} do pool[key + 1] = key end
  local count = math.random(${hot_key_writes_min}, ${hot_key_writes_max})
  local parts = {}
  for i = 1, count do
    local j = math.random(i, #pool)
    pool[i], pool[j] = pool[j], pool[i]
    parts[i] = '"' .. prefix .. '-hot-' .. pool[i] .. '":{"client":' .. thread .. ',"index":' .. index .. '}'
  end
  return '{"payload":{' .. table.concat(parts, ',') .. '}}'
end`,
  counts_aborts: true,
};

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

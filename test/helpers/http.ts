import { signRequest } from '../../lib/security/signature.ts';

/**
 * A JSON request from a test, with a timeout; returns status and parsed body. With a
 * `secret` it is signed the way peers and the CLI sign.
 */
export async function request<T = any>(addr: string, method: 'GET' | 'POST', path: string, body?: unknown, timeout_ms = 5_000, secret?: string): Promise<{ status: number; body: T }> {
  const sent = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (secret !== undefined) Object.assign(headers, signRequest(secret, { method, path, node: addr, body: sent }, Date.now()));
  const response = await fetch(`http://${addr}${path}`, { method, headers, signal: AbortSignal.timeout(timeout_ms), ...(body !== undefined && { body: sent }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (metrics, the page): keep the text
  }
  return { status: response.status, body: parsed as T };
}

/** Retry `check` until it returns a truthy value or `timeout_ms` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeout_ms = 15_000, interval_ms = 50): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  let last_error: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last_error = error;
    }
    await new Promise((resolve) => setTimeout(resolve, interval_ms));
  }
  throw new Error(`timed out waiting for ${what}${last_error ? `: ${String(last_error)}` : ''}`);
}

/**
 * The fields a coordinator message must carry to be taken by `addr`: its current epoch and
 * the master of that epoch (a participant listens to no one else). For tests that stand in
 * for the master.
 */
export async function masterRound(addr: string, master: string, secret?: string): Promise<{ readonly epoch: number; readonly coordinator: string }> {
  const health = await request<{ epoch: number }>(addr, 'GET', '/health', undefined, 5_000, secret);
  return { epoch: health.body.epoch, coordinator: master };
}

/**
 * What a master that dies mid-round leaves behind: `payload` prepared at `holder` in
 * `master`'s round, whose only other participant is `master` itself. Once `master` is down,
 * the holder can learn nothing (every reachable participant of the round prepared it), so
 * the transaction stays in doubt there with its keys locked: a round of another coordinator
 * (the next master) touching them votes conflict. When `master` is back, it answers that it
 * never prepared the transaction, and the holder fences and aborts it.
 */
export async function prepareOldMastersRound(holder: string, master: string, transaction_id: string, payload: unknown, secret?: string): Promise<{ status: number; body: any }> {
  const round = await masterRound(holder, master, secret);
  return request(holder, 'POST', '/prepare', { transaction_id, payload, ...round, participants: [master, holder] }, 5_000, secret);
}

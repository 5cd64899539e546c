/** Reading what a node answered: a JSON object's fields, and the reason a refusal gives. */

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `error` (or `reason`) field of a node's JSON answer, else a generic description. */
export function answerReason(status: number, body: unknown): string {
  if (isRecord(body)) {
    if (typeof body['error'] === 'string') return body['error'];
    if (typeof body['reason'] === 'string') return body['reason'];
  }
  if (typeof body === 'string' && body.trim() !== '') return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
  return `HTTP ${status}`;
}

/** Advice added to a 401: the cluster signs requests and this client has no (or another) secret. */
export const secret_hint = 'the cluster has a secret: pass --secret-file PATH or set TWOPC_SECRET (in code: connect({ secret }))';

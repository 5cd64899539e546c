import type { H3Event } from 'h3';
import type * as v from 'valibot';
import { parseMessage } from '../protocol/messages.ts';

/** A request the node refuses; routes turn it into `{"error"}` with `status`. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Read a JSON body of at most `limit_bytes`, counting bytes as they arrive (a lying
 * Content-Length cannot get more through), parse it, and validate it against `schema`.
 * Every failure is a RequestError: 413 too large, 415 not JSON, 400 malformed or invalid.
 */
export async function readJsonBody<S extends v.GenericSchema>(event: H3Event, schema: S, limit_bytes: number): Promise<v.InferOutput<S>> {
  const declared = Number(event.req.headers.get('content-length') ?? '0');
  if (declared > limit_bytes) throw new RequestError(413, `body larger than ${limit_bytes} bytes`);
  const type = event.req.headers.get('content-type');
  if (type !== null && !/^application\/(.+\+)?json\b/i.test(type) && !/^text\/plain\b/i.test(type)) {
    throw new RequestError(415, 'body must be application/json');
  }
  const text = await readLimitedText(event.req, limit_bytes);
  if (text.length === 0) throw new RequestError(400, 'body must be a JSON object');
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new RequestError(400, 'body is not valid JSON');
  }
  const parsed = parseMessage(schema, input);
  if (!parsed.ok) throw new RequestError(400, parsed.error);
  return parsed.value;
}

async function readLimitedText(request: Request, limit_bytes: number): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit_bytes) {
      await reader.cancel().catch(() => undefined);
      throw new RequestError(413, `body larger than ${limit_bytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

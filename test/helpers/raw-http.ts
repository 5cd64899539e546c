/**
 * Raw HTTP/1.1 over node:net for tests that send what fetch cannot: stalled and trickled
 * bodies, broken request lines, lying lengths, headers without the body they announce.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly elapsed_ms: number;
}

export function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { not_an_object: text };
  } catch {
    return { not_json: text };
  }
}

/**
 * Write `head` (and optionally more, later) on a raw connection; resolve with the status and
 * body of the first answer, or reject after `timeout_ms`. The socket is closed afterwards.
 */
export function rawExchange(addr: string, head: string | Buffer, drive?: (socket: ReturnType<typeof connect>) => void, timeout_ms = 20_000): Promise<RawAnswer> {
  const [host, port] = addr.split(':') as [string, string];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeout_ms} ms (got ${JSON.stringify(received)})`));
    }, timeout_ms);
    const finish = () => {
      const match = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(received);
      if (!match) return false;
      const length = /content-length: (\d+)/i.exec(match[2]!);
      const chunked = /transfer-encoding: chunked/i.test(match[2]!);
      if (chunked && !match[3]!.endsWith('0\r\n\r\n')) return false;
      const body = chunked ? dechunk(match[3]!) : match[3]!;
      if (length && Buffer.byteLength(body) < Number(length[1])) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(match[1]), body: parseObject(body), elapsed_ms: Date.now() - started });
      return true;
    };
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!finish()) {
        clearTimeout(timer);
        reject(new Error(`connection closed without a full answer (got ${JSON.stringify(received)})`));
      }
    });
    socket.write(head);
    drive?.(socket);
  });
}

/** The body of a complete chunked answer. */
function dechunk(raw: string): string {
  let body = '';
  let rest = raw;
  for (;;) {
    const line_end = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, line_end), 16);
    if (!(size > 0)) return body;
    body += rest.slice(line_end + 2, line_end + 2 + size);
    rest = rest.slice(line_end + 2 + size + 2);
  }
}


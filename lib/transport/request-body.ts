/**
 * A request's body bytes, read once per request and at most `limit_bytes` of them, counted
 * as they arrive (a lying or absent Content-Length gets no more through): 413 beyond it.
 *
 * Under Node (every node's listener) the bytes are read from the Node request under h3's
 * event (`event.node.req`), as srvx itself reads `text()`: h3's own `assertBodySize` plus
 * `req.arrayBuffer()` turn the body into a web stream, a limited copy of it and a new
 * Request, which cost about 0.15 ms of CPU a request on this machine, more than reading,
 * parsing and validating a small body together (bench/README.md, profile findings).
 * Elsewhere (a fetch-style caller of the app) h3's own limited reader is used.
 *
 * The authentication middleware reads the body for its digest and the route reads it again:
 * both get the same bytes (one read per request, kept with the event).
 */
import type { IncomingMessage } from 'node:http';
import { assertBodySize, HTTPError, type H3Event } from 'h3';

const read_bodies = new WeakMap<H3Event, Promise<Uint8Array>>();

export function readBodyBytes(event: H3Event, limit_bytes: number): Promise<Uint8Array> {
  let bytes = read_bodies.get(event);
  if (bytes === undefined) {
    bytes = readOnce(event, limit_bytes);
    read_bodies.set(event, bytes);
  }
  return bytes;
}

/**
 * One request header (lowercase name), from the Node request when there is one: h3's
 * `event.req.headers` builds a Headers wrapper over all of them on first use.
 */
export function readHeader(event: H3Event, name: string): string | null {
  const req = event.node?.req as IncomingMessage | undefined;
  if (req === undefined) return event.req.headers.get(name);
  const value = req.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

function readOnce(event: H3Event, limit_bytes: number): Promise<Uint8Array> {
  const req = event.node?.req as IncomingMessage | undefined;
  if (req === undefined) return readThroughWebStream(event, limit_bytes);
  if (req.method === 'GET' || req.method === 'HEAD') return Promise.resolve(new Uint8Array());
  const length = req.headers['content-length'];
  if (length !== undefined) {
    if (req.headers['transfer-encoding'] !== undefined) return Promise.reject(new HTTPError({ status: 400, message: 'both Content-Length and Transfer-Encoding' }));
    if (Number(length) > limit_bytes) return Promise.reject(tooLarge(limit_bytes));
  }
  if (req.readableEnded || req.destroyed) return Promise.reject(incomplete());
  return readNodeRequest(req, limit_bytes);
}

function readNodeRequest(req: IncomingMessage, limit_bytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit_bytes) {
        stop();
        req.pause();
        reject(tooLarge(limit_bytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      if (req.aborted || req.errored !== null) return reject(incomplete());
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onGone = () => {
      stop();
      reject(incomplete());
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onGone);
  });
}

async function readThroughWebStream(event: H3Event, limit_bytes: number): Promise<Uint8Array> {
  assertBodySize(event, limit_bytes);
  return new Uint8Array(await event.req.arrayBuffer());
}

/** h3's own 413 (assertBodySize's words). */
function tooLarge(limit_bytes: number): HTTPError {
  return new HTTPError({ status: 413, statusText: 'Request Entity Too Large', message: `Request body size exceeds the limit of ${limit_bytes} bytes` });
}

/** The client went away (or the body deadline cut it) before the whole body arrived: nothing is done with it. */
function incomplete(): HTTPError {
  return new HTTPError({ status: 400, message: 'request body did not arrive whole' });
}

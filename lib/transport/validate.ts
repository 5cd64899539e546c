/**
 * Every input a route reads goes through h3's validated readers with a valibot schema from
 * lib/protocol/messages.ts (Standard Schema): nothing is validated by hand. Failures become
 * HTTP errors with one readable line; routes.ts renders them as `{"error"}`.
 */
import { getValidatedQuery, getValidatedRouterParams, HTTPError, type H3Event } from 'h3';
import * as v from 'valibot';
import { describeIssues, type Issue } from '../protocol/messages.ts';
import { findShapeProblem } from './json-shape.ts';
import { readBodyBytes, readHeader } from './request-body.ts';

const onError = (result: { readonly issues: readonly Issue[] }) => ({ status: 400, message: describeIssues(result.issues) });

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A JSON body of at most `limit_bytes` (counted as the bytes arrive: a lying or absent
 * Content-Length gets no more through), validated against `schema`. 415 for a body that
 * declares another type, 413 too large, 400 malformed or invalid: not UTF-8, not JSON,
 * nested too deep, a repeated key or a key validators would drop (lib/transport/json-shape.ts).
 */
export async function readBodyAs<S extends v.GenericSchema>(event: H3Event, schema: S, limit_bytes: number): Promise<v.InferOutput<S>> {
  const type = readHeader(event, 'content-type');
  if (type !== null && !/^application\/(.+\+)?json\b/i.test(type) && !/^text\/plain\b/i.test(type)) {
    throw new HTTPError({ status: 415, message: 'body must be application/json' });
  }
  const result = v.safeParse(schema, parseJsonBody(decodeUtf8(await readBodyBytes(event, limit_bytes))));
  if (!result.success) throw new HTTPError(onError(result));
  return result.output;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new HTTPError({ status: 400, message: 'body is not valid UTF-8' });
  }
}

/** The parsed body; an empty body is `undefined`, which every schema refuses with its own words. */
function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  const problem = findShapeProblem(text);
  if (problem !== undefined) throw new HTTPError({ status: 400, message: problem });
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPError({ status: 400, message: 'Invalid JSON body' });
  }
}

export function readQueryAs<S extends v.GenericSchema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> {
  return getValidatedQuery(event, schema, { onError });
}

/** Router params as matched (still percent-encoded): the schema decodes what it needs. */
export function readParamsAs<S extends v.GenericSchema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> {
  return getValidatedRouterParams(event, schema, { onError });
}

/** A refusal a route decides itself (not a schema failure). */
export function refuse(status: number, message: string): HTTPError {
  return new HTTPError({ status, message });
}

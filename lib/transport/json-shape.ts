/**
 * A check of a JSON body's shape before it is parsed and validated: how deep it nests,
 * whether an object repeats a key, and whether it uses a key that schema libraries drop
 * silently. JSON.parse accepts all three (the last duplicate wins, any depth), and the
 * schemas either overflow the stack on deep input or quietly write something else than
 * was sent; this one iterative pass turns them into a clear 400 instead.
 */

/** Deepest nesting of arrays and objects a body may have, the body itself being level 1. */
export const body_max_depth_levels = 64;

/** Object keys refused at any depth: validators drop them, so the write would differ. */
const dropped_keys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const quote = 0x22;
const backslash = 0x5c;

/**
 * Why `text` may not be taken as it is, or undefined when its shape is fine. Only shape:
 * malformed JSON is left to JSON.parse, which reports it after this pass.
 */
export function findShapeProblem(text: string): string | undefined {
  // One set of seen keys per open object; arrays hold `undefined`.
  const open: (Set<string> | undefined)[] = [];
  let expect_key = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === quote) {
      const end = endOfString(text, i);
      if (end < 0) return undefined;
      const keys = open.at(-1);
      if (expect_key && keys !== undefined) {
        const literal = text.slice(i, end + 1);
        const key = literal.includes('\\') ? decodeString(literal) : literal.slice(1, -1);
        if (key === undefined) return undefined;
        if (keys.has(key)) return `duplicate key ${JSON.stringify(key)} in the body`;
        if (dropped_keys.has(key)) return `the key ${JSON.stringify(key)} is not allowed`;
        keys.add(key);
        expect_key = false;
      }
      i = end;
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      open.push(code === 0x7b ? new Set() : undefined);
      if (open.length > body_max_depth_levels) return `the body nests deeper than ${body_max_depth_levels} levels`;
      expect_key = code === 0x7b;
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      open.pop();
      expect_key = false;
    } else if (code === 0x2c /* , */) {
      expect_key = open.at(-1) !== undefined;
    }
  }
  return undefined;
}

/** Index of the quote that closes the string opening at `start`, or -1 if none does. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === backslash) i += 1;
    else if (code === quote) return i;
  }
  return -1;
}

function decodeString(literal: string): string | undefined {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

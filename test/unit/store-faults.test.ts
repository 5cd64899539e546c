/**
 * Which store errors take a node out of the alive set, and whether it may come back by itself
 * (lib/node/store-faults.ts).
 */
import test from 'ava';
import { classifyStoreFault, DiskWriteError } from '../../lib/node/store-faults.ts';

const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });

const cases: readonly [string, unknown, 'transient' | 'damaged' | 'none'][] = [
  ['fsync EIO', sqliteError('SQLITE_IOERR_FSYNC', 'disk I/O error'), 'transient'],
  ['write EIO', sqliteError('SQLITE_IOERR_WRITE', 'disk I/O error'), 'transient'],
  ['disk full', sqliteError('SQLITE_FULL', 'database or disk is full'), 'transient'],
  ['read-only file', sqliteError('SQLITE_READONLY', 'attempt to write a readonly database'), 'transient'],
  ['the failpoint', new DiskWriteError('disk I/O error (failpoint disk-write)'), 'transient'],
  ['a corrupt page', sqliteError('SQLITE_CORRUPT', 'database disk image is malformed'), 'damaged'],
  ['not a database', sqliteError('SQLITE_NOTADB', 'file is not a database'), 'damaged'],
  ['a constraint (a protocol bug, not the disk)', sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed'), 'none'],
  ['a plain error', new Error('boom'), 'none'],
  ['not an error at all', 'boom', 'none'],
];
for (const [name, error, expected] of cases) {
  test(`store fault: ${name} → ${expected}`, (t) => {
    const fault = classifyStoreFault(error);
    t.is(fault === undefined ? 'none' : fault.transient ? 'transient' : 'damaged', expected);
  });
}

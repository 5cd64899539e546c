/**
 * Small real disks for the disk-full scenario: a tmpfs mounted on a node's data folder before
 * the node starts, filled up with a ballast file while it runs (the store then fails with
 * ENOSPC, SQLite's SQLITE_FULL), and enlarged with `mount -o remount,size=` to recover.
 * Mounting needs privileges: where `mount` is refused, MountRefused says why.
 * Every mount made here is undone when its cluster stops, and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** `mount` was refused (no root or CAP_SYS_ADMIN): the message says why. */
export class MountRefused extends Error {
  override readonly name = 'MountRefused';
}

/** Size of each node's tmpfs at start: far above what one chaos run writes. */
export const tmpfs_start_bytes = 64 * 1024 * 1024;
/** How much a full tmpfs grows by when it recovers. */
export const tmpfs_growth_bytes = 32 * 1024 * 1024;
const ballast_chunk_bytes = 1024 * 1024;
const mount_timeout_ms = 10_000;

const live_mounts = new Set<string>();

function run(args: readonly string[]): void {
  execFileSync(args[0] ?? '', args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: mount_timeout_ms });
}

function reasonOf(error: unknown): string {
  const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
  return stderr !== undefined && stderr !== '' ? stderr : error instanceof Error ? error.message : String(error);
}

/** Mount a tmpfs of `size_bytes` on `dir` (made if missing); MountRefused when mount is refused. */
export function mountTmpfs(dir: string, size_bytes: number): void {
  mkdirSync(dir, { recursive: true });
  try {
    run(['mount', '-t', 'tmpfs', '-o', `size=${size_bytes}`, 'tmpfs', dir]);
  } catch (error) {
    throw new MountRefused(`cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): ${reasonOf(error)}`);
  }
  live_mounts.add(dir);
}

/** Give a mounted tmpfs a new size (above what it holds). */
export function resizeTmpfs(dir: string, size_bytes: number): void {
  run(['mount', '-o', `remount,size=${size_bytes}`, dir]);
}

/** Bytes a tmpfs holds now. */
export function usedBytes(dir: string): number {
  const stats = statfsSync(dir);
  return (stats.blocks - stats.bfree) * stats.bsize;
}

/** Write a ballast file into `dir` until the file system is full; returns the bytes written. */
export function fillUp(dir: string): number {
  const fd = openSync(join(dir, 'chaos-ballast'), 'a');
  const chunk = Buffer.alloc(ballast_chunk_bytes, 0x5a);
  let written = 0;
  try {
    for (let size = ballast_chunk_bytes; size >= 4096; ) {
      try {
        written += writeSync(fd, chunk, 0, size);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOSPC') throw error;
        size /= 2;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Unmount `dir` (lazily, so a process that still holds a file there cannot keep it). */
export function unmountTmpfs(dir: string): void {
  if (!live_mounts.delete(dir)) return;
  try {
    run(['umount', '-l', dir]);
  } catch {
    // Already gone: nothing to undo.
  }
}

export function unmountAllTmpfs(): void {
  for (const dir of [...live_mounts]) unmountTmpfs(dir);
}

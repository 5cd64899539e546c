import { setFlagsFromString } from 'node:v8';

/**
 * The V8 heap settings (and glibc malloc's, below) a node runs with, wherever it starts:
 * `bin/twopc.mjs` (its /bin/sh lines, for `start-node` and `cluster` run as `npx twopc` or
 * `./bin/twopc.mjs`; its client commands run without V8 flags), lib/process-cluster
 * (node processes of tests, chaos and bench), lib/supervisor (worker threads of `twopc
 * cluster`) and the Dockerfile's entrypoint. V8 reads the young generation's size when a heap
 * is created: `v8.setFlagsFromString` later has no effect on it.
 *
 * The young generation is what grows under load: by default a semi-space may reach 16 MB
 * (young generation 48 MB) and V8 keeps it. Measured with `twopc bench` (bench/README.md):
 * a 2 MB semi-space takes ~15 MB off an idle node and more under load, for a few percent of
 * throughput (more frequent scavenges).
 */

/** Largest semi-space of a node's V8 heap (half the young generation's copying space), in MB. */
export const node_semi_space_max_mb = 2;

/**
 * Largest old generation of a node's V8 heap, in MB. Not a budget the node comes near (its
 * named limits keep the live heap to tens of MB; after 8 s of 64 writers a master holds 17 MB):
 * V8 lets the old generation grow by a factor of the live heap after each full collection, up
 * to 4× when the heap may reach 2 GB or more (the default here is 4 GB), 1.3–2× below that.
 * Measured on a 3-node process cluster, 15 s of 64 writers, 3 alternated pairs at load 6–9: the
 * master's peak RSS 91–94 MB against 114–117 MB without it, the slaves' 85–89 against 89–91,
 * CPU per transaction 1 118–1 294 µs against 1 370–1 491 µs (no cost seen); 512 gave the same
 * as 1 024; over 60 s, peaks 98/90/90 MB against 144/113/111 for 950 against 915 µs. A node
 * past it stops with V8's out-of-memory error, as it would at the default.
 */
export const node_old_space_max_mb = 1024;

/**
 * `node` arguments of a node process: as few as possible, since any V8 flag on the command line
 * costs a process the code cache of Node's built-in modules (lib/boot/quiet-collection.ts
 * takes `gc` at run time for that reason).
 */
export const node_heap_args: readonly string[] = Object.freeze([`--max-semi-space-size=${node_semi_space_max_mb}`, `--max-old-space-size=${node_old_space_max_mb}`]);

/**
 * Gives every thread started from now on V8's `gc` on its global (lib/boot/quiet-collection.ts
 * calls it). The supervisor calls this before its node threads start, so that no node thread
 * changes V8's flags, which all threads of the process share, while others run.
 */
export function exposeGcToNewThreads(): void {
  setFlagsFromString('--expose-gc');
}

/** Worker-thread resource limits of a node thread: V8's young generation is three semi-spaces. */
export const node_thread_resource_limits = Object.freeze({ maxYoungGenerationSizeMb: 3 * node_semi_space_max_mb, maxOldGenerationSizeMb: node_old_space_max_mb });

/**
 * glibc malloc settings of a node process (environment variables glibc reads when the process
 * starts; one process holds every thread of `twopc cluster`). By default glibc raises its
 * mmap threshold (up to 32 MB) after a large block is freed, so later large blocks are carved
 * from an arena and stay there after they are freed: on a 3-node cluster, about one node in
 * three sat 10 MB higher when idle (83–85 MB against 74–76), held in a thread's arena.
 * Fixing the threshold returns large blocks to the OS when freed: 12 of 12 nodes then idled at
 * 71–75 MB. Fixing it also fixes the trim threshold, whose default (128 KB) made the heap
 * shrink and grow on nearly every request (3 033 `brk` calls in 5 s of 64 writers against 20);
 * 1 MB keeps that at 18 (bench/README.md, issue 12).
 */
/** Blocks from this size up get a mapping of their own, returned to the OS when freed. */
export const malloc_mmap_threshold_bytes = 128 * 1024;
/** Free memory at the top of the heap glibc keeps before it gives it back. */
export const malloc_trim_threshold_bytes = 1024 * 1024;

/** The environment of a node process: add it to whatever else the process gets. */
export const node_malloc_env: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: String(malloc_mmap_threshold_bytes),
  MALLOC_TRIM_THRESHOLD_: String(malloc_trim_threshold_bytes),
});

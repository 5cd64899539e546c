/**
 * The V8 heap settings a node runs with, wherever it starts: `bin/twopc.mjs` (its shebang,
 * for `npx twopc` and `./bin/twopc.mjs`), lib/process-cluster (node processes of tests, chaos
 * and bench), lib/supervisor (worker threads of `twopc cluster`) and the Dockerfile's
 * entrypoint. V8 reads these when a heap is created: `v8.setFlagsFromString` later has no effect.
 *
 * The young generation is what grows under load: by default a semi-space may reach 16 MB
 * (young generation 48 MB) and V8 keeps it. Measured with `twopc bench` (bench/README.md):
 * a 2 MB semi-space takes ~15 MB off an idle node and more under load, for a few percent of
 * throughput (more frequent scavenges).
 */

/** Largest semi-space of a node's V8 heap (half the young generation's copying space), in MB. */
export const node_semi_space_max_mb = 2;

/** `node` arguments of a node process. */
export const node_heap_args: readonly string[] = Object.freeze([`--max-semi-space-size=${node_semi_space_max_mb}`]);

/** Worker-thread resource limits of a node thread: V8's young generation is three semi-spaces. */
export const node_thread_resource_limits = Object.freeze({ maxYoungGenerationSizeMb: 3 * node_semi_space_max_mb });

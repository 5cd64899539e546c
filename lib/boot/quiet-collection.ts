/**
 * Quiet-time garbage collection: once a node's traffic stops, it gives back the heap the
 * traffic grew, at once instead of whenever V8 gets to it.
 *
 * Under load V8's old generation fills with garbage promoted from the (2 MB) young
 * generation: after 8 s of 64 writers a master holds 17 MB of live heap in a 40–60 MB heap.
 * V8 returns that only through its memory reducer, which starts 8 s after allocation slows
 * and is armed only by a full collection (`--gc-memory-reducer-start-delay-ms=1000` did not
 * shrink the heap within 10 s: bench/README.md, issue 12). So a node checks every
 * `quiet_check_interval_ms`: when its event loop has been busy less than
 * `quiet_loop_busy_share_max` of each of the last `quiet_intervals_min` intervals and its heap
 * has grown by `quiet_heap_growth_min_mb` since its smallest size after the last collection,
 * it runs a full collection (`collectFully`), which frees the garbage and unmaps the emptied
 * pages. Under load the loop is busy and nothing runs; a quiet node collects once per
 * growth, not on a timer.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';

/** How often a node looks at its event loop and heap. */
export const quiet_check_interval_ms = 500;
/**
 * Share of an interval the event loop may be busy for the node to count as quiet. Measured on
 * this 2-core machine at load 11: idle nodes 2–6 %, nodes under 64 writers 50–90 %, under one
 * client writing in a loop 25–60 %.
 */
export const quiet_loop_busy_share_max = 0.05;
/** Quiet intervals in a row before a collection: a pause between two requests is not quiet. */
export const quiet_intervals_min = 2;
/** Heap growth since the last collection worth a full collection (one takes 20–60 ms on 20–60 MB). */
export const quiet_heap_growth_min_mb = 8;

export interface QuietSample {
  /** Intervals in a row, up to now, in which the event loop was busy less than quiet_loop_busy_share_max. */
  readonly quiet_intervals: number;
  /** V8's heap now (committed), in MB. */
  readonly heap_mb: number;
  /** The smallest the heap has been since the last collection, in MB. */
  readonly heap_floor_mb: number;
}

/** Collect now: the node has been quiet long enough and its heap grew enough since the last collection. */
export function shouldCollectNow(sample: QuietSample): boolean {
  return sample.quiet_intervals >= quiet_intervals_min && sample.heap_mb - sample.heap_floor_mb >= quiet_heap_growth_min_mb;
}

export interface QuietCollection {
  stop(): void;
}

/**
 * Two full collections through V8's `gc`. One frees the garbage but keeps its pages: V8 picks
 * the pages to compact by the live bytes its sweeper counted, which the first collection
 * brings up to date; the second moves the survivors off the sparse pages and unmaps them
 * (measured, Node 20: a 108 MB heap holding 12 MB live stayed at 99 MB after one, 31–44 MB
 * after two, in 270 ms; gc's options object, e.g. `{ type: 'major' }`, collects nothing in
 * this V8).
 *
 * `gc` is taken at run time (`--expose-gc`, then a context of its own, ~0.5 MB; a node thread
 * of `twopc cluster` finds it on its global, exposeGcToNewThreads), not from a `node` flag: any V8 flag on the command line makes Node 20 refuse the code cache of its
 * built-in modules (the cache is keyed by the flags), which every `twopc` command would pay
 * for (bin/twopc.mjs).
 */
export function collectFully(): () => void {
  const gc = exposedGc() ?? takeGc();
  return () => {
    gc();
    gc();
  };
}

/** `gc` of this thread's global: node threads of `twopc cluster` have it (lib/util/node-heap.ts, exposeGcToNewThreads). */
function exposedGc(): (() => void) | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

/** Sets V8's flag (process-wide), then reads `gc` from a context created after it. */
function takeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapMb(): number {
  return getHeapStatistics().total_heap_size / (1024 * 1024);
}

/** Starts the checks on this thread (each node thread of `twopc cluster` has its own heap). */
export function startQuietCollection(collect: () => void = collectFully()): QuietCollection {
  let loop = performance.eventLoopUtilization();
  let quiet_intervals = 0;
  let heap_floor_mb = heapMb();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    quiet_intervals = performance.eventLoopUtilization(now, loop).utilization < quiet_loop_busy_share_max ? quiet_intervals + 1 : 0;
    loop = now;
    const heap_mb = heapMb();
    heap_floor_mb = Math.min(heap_floor_mb, heap_mb);
    if (!shouldCollectNow({ quiet_intervals, heap_mb, heap_floor_mb })) return;
    collect();
    heap_floor_mb = heapMb();
  }, quiet_check_interval_ms);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

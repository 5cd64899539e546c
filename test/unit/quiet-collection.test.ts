/** Quiet-time collection (lib/boot/quiet-collection.ts): when a node collects its heap, and when it does not. */
import test from 'ava';
import { getHeapStatistics } from 'node:v8';
import {
  collectFully,
  quiet_check_interval_ms,
  quiet_heap_growth_min_mb,
  quiet_intervals_min,
  shouldCollectNow,
  startQuietCollection,
} from '../../lib/boot/quiet-collection.ts';
import { waitUntil } from '../../lib/util/wait-until.ts';

const table: readonly { readonly name: string; readonly quiet_intervals: number; readonly heap_mb: number; readonly heap_floor_mb: number; readonly collect: boolean }[] = [
  { name: 'quiet long enough, heap grew by the minimum', quiet_intervals: quiet_intervals_min, heap_mb: 20 + quiet_heap_growth_min_mb, heap_floor_mb: 20, collect: true },
  { name: 'quiet for longer, heap grew more', quiet_intervals: quiet_intervals_min + 5, heap_mb: 60, heap_floor_mb: 20, collect: true },
  { name: 'busy now (the count restarted)', quiet_intervals: 0, heap_mb: 60, heap_floor_mb: 20, collect: false },
  { name: 'quiet for one interval short', quiet_intervals: quiet_intervals_min - 1, heap_mb: 60, heap_floor_mb: 20, collect: false },
  { name: 'quiet, heap grew less than the minimum', quiet_intervals: quiet_intervals_min + 5, heap_mb: 20 + quiet_heap_growth_min_mb - 0.1, heap_floor_mb: 20, collect: false },
  { name: 'quiet, heap as small as ever', quiet_intervals: quiet_intervals_min + 5, heap_mb: 20, heap_floor_mb: 20, collect: false },
];

for (const row of table) {
  test(`shouldCollectNow: ${row.name}`, (t) => {
    t.is(shouldCollectNow({ quiet_intervals: row.quiet_intervals, heap_mb: row.heap_mb, heap_floor_mb: row.heap_floor_mb }), row.collect);
  });
}

test('collectFully gives back the garbage of this process\'s heap', (t) => {
  const collect = collectFully();
  const used = (): number => getHeapStatistics().used_heap_size;
  let garbage: number[][] | undefined = Array.from({ length: 8 }, () => new Array<number>(128 * 1024).fill(2.5));
  const with_garbage = used();
  t.is(garbage.length, 8);
  garbage = undefined;
  collect();
  t.true(used() < with_garbage - 6 * 1024 * 1024, `used heap ${with_garbage} -> ${used()} bytes`);
});

/** Keeps the event loop busy (synchronous work in turns) for `ms`. */
async function keepBusy(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const turn_end = Date.now() + 20;
    while (Date.now() < turn_end) Math.sqrt(Math.random());
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('a grown heap is collected once the loop is quiet, not while it is busy, and once per growth', async (t) => {
  let collections = 0;
  const quiet = startQuietCollection(() => (collections += 1));
  t.teardown(() => quiet.stop());
  // Retained, so the heap stays grown whatever V8 collects on its own: 4 × 4 MB of arrays.
  const retained = Array.from({ length: 4 }, () => new Array<number>(512 * 1024).fill(1.5));
  await keepBusy(quiet_check_interval_ms * (quiet_intervals_min + 2));
  t.is(collections, 0, 'no collection while the event loop is busy');
  await waitUntil('a collection once the loop is quiet', async () => collections > 0, 20_000);
  await new Promise((resolve) => setTimeout(resolve, quiet_check_interval_ms * (quiet_intervals_min + 2)));
  t.is(collections, 1, 'the same growth is not collected twice');
  t.is(retained.length, 4);
});

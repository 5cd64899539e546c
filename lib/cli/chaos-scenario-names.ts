/**
 * The names `twopc chaos --scenario` takes, for its `--help`, which must not load the chaos
 * code itself; test/unit/cli-helpers.test.ts checks they match lib/chaos/scenarios.ts.
 */
export const chaos_scenario_names: readonly string[] = Object.freeze([
  'participant-kill-before-prepare-persist',
  'participant-kill-after-prepare-persist',
  'master-kill-before-decision',
  'master-kill-after-decision',
  'master-kill-after-first-commit',
  'disk-error',
  'disk-full',
  'master-sigkill',
  'master-pause',
  'participant-pause',
  'partition-master',
  'partition-2-3',
  'duplicate-reorder',
  'clock-jump',
]);

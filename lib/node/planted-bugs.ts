/**
 * Deliberate protocol bugs, planted in the real services so the simulation can prove its
 * checker catches each (`npm run sim -- --bug NAME`). Each breaks one rule the way a real bug
 * would. Only the simulation's wiring can switch one on: production always builds the node
 * with `no_planted_bugs`, and no flag, option or variable reaches them.
 */
export const planted_bug_names = [
  /** A participant answers READY before the prepare is durable (the write lands a little later). */
  'ready-before-durable',
  /** A participant applies a transaction's writes when it prepares, before any decision. */
  'apply-on-prepare',
  /** The coordinator answers COMMITTED as soon as it decides, before any replica applied it. */
  'acknowledge-before-replicated',
  /** A candidate leads without a majority of grants for its epoch. */
  'lead-without-majority-grants',
  /** A node grants an epoch it already granted to another candidate. */
  'grant-epoch-twice',
  /** The master counts its own decision as the run's whole quorum: the next run of sequences goes as soon as the decision is on its disk, before any other replica applied it. */
  'confirm-run-on-own-decision',
  /** A new master skips its catch-up and starts its term from the sequences it applied itself, whatever its peers report. */
  'reuse-sequence-at-take-over',
  /** The coordinator applies a commit to its own replica without an fsync as soon as it decides, before another replica applied it durably. */
  'apply-here-unsynced-before-replicated',
  /** A participant votes READY on keys another round's transaction holds PREPARED (an old master's in-doubt one): no lock is ever a conflict. */
  'prepare-ignores-locks',
  /** A participant writes a peer's prepare unsynced too, so the READY it answers is lost with a power loss. */
  'peer-prepare-unsynced',
] as const;
export type PlantedBugName = (typeof planted_bug_names)[number];

export type PlantedBugs = Readonly<Record<PlantedBugName, boolean>>;

export const no_planted_bugs: PlantedBugs = Object.freeze(Object.fromEntries(planted_bug_names.map((name) => [name, false])) as Record<PlantedBugName, boolean>);

export function isPlantedBugName(name: string): name is PlantedBugName {
  return (planted_bug_names as readonly string[]).includes(name);
}

import { sweepSeeds } from './lib/simulation/runner.ts';
const results = await sweepSeeds(1, 1000);
for (const r of results) if (!r.ok) console.log(r.seed, r.violations.slice(0, 2).map((v) => `${v.rule}: ${v.detail}`).join(' | '));

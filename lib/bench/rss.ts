/**
 * Resident memory of the benchmark's processes: VmRSS from /proc/PID/status (Linux),
 * sampled on a timer while the load runs. Reports the first, highest and last reading.
 */
import { readFileSync } from 'node:fs';
import { round } from './stats.ts';

/** How often every process is sampled. */
export const rss_sample_interval_ms = 250;

export interface RssSummary {
  readonly label: string;
  readonly start_mb: number;
  readonly peak_mb: number;
  readonly end_mb: number;
  readonly samples: number;
}

/** VmRSS of `pid` in MB, or undefined when it cannot be read (process gone, no /proc). */
export function readRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

interface Track {
  readonly label: string;
  readonly pid: () => number | undefined;
  readonly readings: number[];
}

/** Samples a fixed set of processes (each found by label through a pid getter) while running. */
export class RssSampler {
  private readonly tracks: Track[] = [];
  private timer: NodeJS.Timeout | undefined;

  track(label: string, pid: () => number | undefined): void {
    this.tracks.push({ label, pid, readings: [] });
  }

  /** Takes one reading of every process now. */
  sample(): void {
    for (const track of this.tracks) {
      const pid = track.pid();
      const mb = pid === undefined ? undefined : readRssMb(pid);
      if (mb !== undefined) track.readings.push(mb);
    }
  }

  start(): void {
    this.sample();
    this.timer ??= setInterval(() => this.sample(), rss_sample_interval_ms);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** One summary per tracked process that gave at least one reading. */
  summaries(): readonly RssSummary[] {
    return this.tracks
      .filter((track) => track.readings.length > 0)
      .map((track) => ({
        label: track.label,
        start_mb: round(track.readings[0] ?? 0, 1),
        peak_mb: round(Math.max(...track.readings), 1),
        end_mb: round(track.readings.at(-1) ?? 0, 1),
        samples: track.readings.length,
      }));
  }
}

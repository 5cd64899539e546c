/**
 * Where time comes from. Everything that reads the time takes a Clock, so a simulation can
 * drive it and a test can jump it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now_ms(): number;
}

export const system_clock: Clock = Object.freeze({ now_ms: () => Date.now() });

export function sleep(duration_ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, duration_ms));
}

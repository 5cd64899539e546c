/** Polls `probe` every `interval_ms` until it returns a value other than undefined/false; throws after `timeout_ms`. A probe that throws ends the wait with its error. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeout_ms: number, interval_ms = 50): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval_ms));
  }
}

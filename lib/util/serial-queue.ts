/**
 * Runs async tasks strictly one after another. Tasks handed in as `urgent` go before the
 * ordinary ones still waiting (each lane keeps its own order); a task that fails does not
 * stop the ones after it.
 */
export class SerialQueue {
  private readonly urgent: (() => Promise<void>)[] = [];
  private readonly ordinary: (() => Promise<void>)[] = [];
  private running = false;

  run<T>(task: () => Promise<T>, urgent = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (urgent ? this.urgent : this.ordinary).push(() => task().then(resolve, reject));
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let next = this.urgent.shift() ?? this.ordinary.shift(); next; next = this.urgent.shift() ?? this.ordinary.shift()) {
        await next().catch(() => undefined);
      }
    } finally {
      this.running = false;
    }
  }
}

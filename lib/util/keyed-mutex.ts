/**
 * Runs tasks for the same key one after another, tasks for different keys concurrently.
 * A participant handles each transaction's messages in arrival order this way, so a
 * duplicate or crossing prepare/commit/abort sees the previous one's result.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** Collects values a scripted handler receives, so a test can await the next one. */
export class Inbox<T> {
  readonly received: T[] = [];
  private readonly waiting: Array<(value: T) => void> = [];
  private read = 0;

  push(value: T): void {
    this.received.push(value);
    const waiter = this.waiting.shift();
    if (waiter) {
      this.read += 1;
      waiter(value);
    }
  }

  /** The next value not yet read, waiting for it if needed. */
  next(): Promise<T> {
    if (this.read < this.received.length) {
      const value = this.received[this.read] as T;
      this.read += 1;
      return Promise.resolve(value);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

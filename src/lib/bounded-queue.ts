/** Fixed-capacity FIFO ring: O(1) push/shift, never grows, so a stalled consumer costs bounded memory. */
export class BoundedQueue<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** False (and nothing stored) when full. */
  push(item: T): boolean {
    if (this.size === this.capacity) return false;
    this.slots[(this.head + this.size) % this.capacity] = item;
    this.size++;
    return true;
  }

  /** Stores the item, evicting the oldest when full; returns true when something was evicted. */
  pushEvicting(item: T): boolean {
    if (this.size < this.capacity) {
      this.push(item);
      return false;
    }
    this.slots[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    return true;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return item;
  }

  /** The i-th oldest item without removing it. */
  at(i: number): T | undefined {
    return i < 0 || i >= this.size ? undefined : this.slots[(this.head + i) % this.capacity];
  }

  /** Removes everything, returning how many items there were. */
  clear(): number {
    const n = this.size;
    while (this.size > 0) this.shift();
    return n;
  }
}

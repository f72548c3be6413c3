/**
 * Bounded FIFO between the event source and rule evaluation (drop stage `engine_queue`). Only used
 * when evaluation falls behind: the engine evaluates batches in place while the queue is empty, so
 * the common path copies nothing. Events that enter the queue are detached with `copy()`.
 */
import type { EventView } from '../probe/event';
import { EVENT_TYPE_COUNT } from '../probe/event-types';

export interface QueueStats {
  readonly depth: number;
  readonly capacity: number;
  readonly enqueued: number;
  readonly dropped: number;
  /** Drops per event type id. */
  readonly droppedByType: readonly number[];
}

export class EventQueue {
  private readonly ring: (EventView | undefined)[];
  private head = 0;
  private size = 0;
  private enqueued = 0;
  private dropped = 0;
  private readonly droppedByType = new Array<number>(EVENT_TYPE_COUNT).fill(0);

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<EventView | undefined>(capacity).fill(undefined);
  }

  get length(): number {
    return this.size;
  }

  /** Copies the event in; false (and counted) when full. */
  offer(ev: EventView): boolean {
    if (this.size === this.capacity) {
      this.dropped++;
      if (ev.typeId < this.droppedByType.length) this.droppedByType[ev.typeId]!++;
      return false;
    }
    this.ring[(this.head + this.size) % this.capacity] = ev.copy();
    this.size++;
    this.enqueued++;
    return true;
  }

  poll(): EventView | undefined {
    if (this.size === 0) return undefined;
    const ev = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return ev;
  }

  clear(): void {
    while (this.poll() !== undefined);
  }

  stats(): QueueStats {
    return { depth: this.size, capacity: this.capacity, enqueued: this.enqueued, dropped: this.dropped, droppedByType: [...this.droppedByType] };
  }
}

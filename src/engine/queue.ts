/**
 * Bounded FIFO between the event source and rule evaluation (drop stage `engine_queue`). Only used
 * when evaluation falls behind: the engine evaluates batches in place while the queue is empty, so
 * the common path copies nothing. Events that enter the queue are detached with `copy()`.
 */
import type { EventView } from '../probe/event';
import { EVENT_TYPE_COUNT } from '../probe/event-types';
import { BoundedQueue } from '../lib/bounded-queue';

export interface QueueStats {
  readonly depth: number;
  readonly capacity: number;
  readonly enqueued: number;
  readonly dropped: number;
  /** Drops per event type id. */
  readonly droppedByType: readonly number[];
}

export class EventQueue {
  private readonly ring: BoundedQueue<EventView>;
  private enqueued = 0;
  private dropped = 0;
  private readonly droppedByType = new Array<number>(EVENT_TYPE_COUNT).fill(0);

  constructor(readonly capacity: number) {
    this.ring = new BoundedQueue<EventView>(capacity);
  }

  get length(): number {
    return this.ring.length;
  }

  /** Copies the event in; false (and counted) when full. */
  offer(ev: EventView): boolean {
    if (this.ring.length === this.capacity) {
      this.dropped++;
      if (ev.typeId < this.droppedByType.length) this.droppedByType[ev.typeId]!++;
      return false;
    }
    this.ring.push(ev.copy());
    this.enqueued++;
    return true;
  }

  poll(): EventView | undefined {
    return this.ring.shift();
  }

  /** The oldest event, left in place. */
  peek(): EventView | undefined {
    return this.ring.at(0);
  }

  clear(): void {
    this.ring.clear();
  }

  stats(): QueueStats {
    return { depth: this.ring.length, capacity: this.capacity, enqueued: this.enqueued, dropped: this.dropped, droppedByType: [...this.droppedByType] };
  }
}

/**
 * Cache sweeps: entries whose process vanished without an exit event (lost events), then the
 * container- and cgroup-keyed state no remaining process refers to. Runs on a timer and soon
 * after a drop, never per event.
 */
import type { ContainerResolver } from './container-resolver';
import type { ProcessTable } from './process-table';

const DROP_SWEEP_MIN_INTERVAL_MS = 10_000;

export class StateSweeper {
  private readonly timer: NodeJS.Timeout | undefined;
  private lastSweepMs = 0;

  constructor(
    private readonly table: ProcessTable,
    private readonly containers: ContainerResolver,
    intervalSeconds: number,
  ) {
    if (intervalSeconds > 0) {
      this.timer = setInterval(() => this.sweep(), intervalSeconds * 1000);
      this.timer.unref();
    }
  }

  /**
   * Drops entries whose process vanished without an exit event, then the state kept about
   * containers and cgroups none of the remaining processes belongs to; returns how many process
   * entries were dropped.
   */
  sweep(): number {
    this.lastSweepMs = Date.now();
    const n = this.table.sweep();
    this.sweepContainers();
    return n;
  }

  /** Lost events may include exits: sweep soon, but not on every drop marker of a drop storm. */
  afterDrop(): void {
    if (Date.now() - this.lastSweepMs >= DROP_SWEEP_MIN_INTERVAL_MS) this.sweep();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Container-keyed state (metadata, cgroup hints, user tables, a pid per container) and the
   * cgroup id cache are filled as containers start, and nothing else would release them when a
   * container is gone: with containers coming and going they would grow to their bounds and stay
   * there. A container lives as long as one of its processes does, so whatever no process in the
   * table refers to goes. One pass over the table; a live process the table does not hold
   * (evicted) costs at most a fresh lookup later.
   */
  private sweepContainers(): void {
    const liveContainers = new Set<string>();
    const liveCgroups = new Set<number>();
    for (const e of this.table.values()) {
      liveContainers.add(e.containerId);
      liveCgroups.add(e.cgroupId);
    }
    this.containers.retain(liveContainers, liveCgroups);
  }
}

/**
 * Asynchronous container metadata cache. `get()` answers from memory at once and, on a miss,
 * queues a lookup; lookups run at most `maxConcurrent` at a time, failures are remembered for
 * `negativeTtlMs`, and the cache holds at most `maxEntries` containers (oldest dropped first).
 */
import { existsSync } from 'node:fs';
import type { ContainerInfo } from '../types';
import type { ContainerRuntime } from '../cgroup';
import { unsliced } from '../procfs';
import type { ContainerRuntimeClient } from './client';

type CacheEntry =
  | { readonly state: 'known'; readonly info: ContainerInfo }
  | { readonly state: 'pending' }
  | { readonly state: 'failed'; readonly retryAtMs: number };

export interface ContainerMetadataOptions {
  readonly clients: readonly ContainerRuntimeClient[];
  readonly maxEntries: number;
  readonly negativeTtlMs: number;
  readonly maxConcurrent: number;
  readonly now?: () => number;
  readonly onError?: (err: Error, id: string) => void;
}

export interface ContainerMetadataStats {
  /** Containers described (known). */
  readonly entries: number;
  /** Cache slots of every kind: known, pending and remembered failures. */
  readonly slots: number;
  /** Full ids and runtimes remembered from cgroup paths. */
  readonly hints: number;
  readonly lookups: number;
  readonly failures: number;
  readonly queued: number;
}

const FAMILY: Record<ContainerRuntime, string> = { docker: 'docker-api', podman: 'docker-api', containerd: 'cri', 'cri-o': 'cri', unknown: '' };

export class ContainerMetadataStore {
  private readonly cache = new Map<string, CacheEntry>();
  /** What the cgroup told us about ids not yet looked up: full id and runtime. */
  private readonly hints = new Map<string, { fullId: string; runtime: ContainerRuntime }>();
  private readonly queue: string[] = [];
  private inFlight = 0;
  private closed = false;
  private readonly now: () => number;
  private readonly waiters = new Set<() => void>();
  /** Promises handed out by `settled`, by id; at most one per pending lookup. */
  private readonly settling = new Map<string, { readonly promise: Promise<void>; readonly resolve: () => void }>();
  lookups = 0;
  failures = 0;

  constructor(private readonly opts: ContainerMetadataOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Records a container seen in a cgroup path, so a later `get` knows its full id and runtime. */
  noteContainer(fullId: string, runtime: ContainerRuntime): void {
    const id = fullId.slice(0, 12);
    if (this.hints.has(id)) return;
    if (this.hints.size >= this.opts.maxEntries) this.hints.delete(this.hints.keys().next().value as string);
    // The id is usually cut from a whole /proc/<pid>/cgroup text, which it must not keep alive.
    this.hints.set(id, { fullId: unsliced(fullId), runtime });
  }

  /** What is known now; a miss (or an expired failure) starts a lookup in the background. */
  get(id: string): ContainerInfo | undefined {
    const e = this.cache.get(id);
    if (e !== undefined) {
      if (e.state === 'known') return e.info;
      if (e.state === 'pending' || this.now() < e.retryAtMs) return undefined;
    }
    this.enqueue(id);
    return undefined;
  }

  /**
   * Resolves when the container's lookup settles (described, or failed), starting it if needed;
   * undefined when there is nothing to wait for: already known, failed recently, no runtime to ask,
   * or the lookup queue full.
   */
  settled(id: string): Promise<void> | undefined {
    if (this.get(id) !== undefined || this.cache.get(id)?.state !== 'pending') return undefined;
    let s = this.settling.get(id);
    if (s === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      s = { promise, resolve };
      this.settling.set(id, s);
    }
    return s.promise;
  }

  stats(): ContainerMetadataStats {
    let entries = 0;
    for (const e of this.cache.values()) if (e.state === 'known') entries++;
    return { entries, slots: this.cache.size, hints: this.hints.size, lookups: this.lookups, failures: this.failures, queued: this.queue.length };
  }

  /**
   * Forgets containers `isLive` says are gone (their description, remembered failure and cgroup
   * hint), so that short-lived containers do not each hold a slot until `maxEntries` newer ones
   * push it out. Ids with a lookup queued or running keep their slot and hint: the lookup needs
   * the hint, and the queue bound counts on the slot; a later call drops them once settled.
   * Returns how many containers were dropped.
   */
  retain(isLive: (id: string) => boolean): number {
    let n = 0;
    for (const [id, e] of this.cache) {
      if (e.state !== 'pending' && !isLive(id)) {
        this.cache.delete(id);
        n++;
      }
    }
    for (const id of this.hints.keys()) {
      if (!isLive(id) && this.cache.get(id)?.state !== 'pending') this.hints.delete(id);
    }
    return n;
  }

  /** Resolves when no lookup is queued or running (tests and shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    for (const s of this.settling.values()) s.resolve();
    this.settling.clear();
    for (const c of this.opts.clients) c.close();
  }

  private setEntry(id: string, entry: CacheEntry): void {
    this.cache.delete(id);
    if (this.cache.size >= this.opts.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, entry);
  }

  private enqueue(id: string): void {
    // Every queued id also holds a cache slot, so the cache bound is the queue bound.
    if (this.closed || this.opts.clients.length === 0 || this.queue.length >= this.opts.maxEntries) return;
    this.setEntry(id, { state: 'pending' });
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxConcurrent && this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.inFlight++;
      this.lookups++;
      void this.lookup(id).then(
        (info) => {
          if (info) this.setEntry(id, { state: 'known', info });
          else this.fail(id);
        },
        (err: Error) => {
          this.opts.onError?.(err, id);
          this.fail(id);
        },
      ).finally(() => {
        this.inFlight--;
        const s = this.settling.get(id);
        if (s !== undefined) {
          this.settling.delete(id);
          s.resolve();
        }
        if (!this.closed) this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          for (const w of this.waiters) w();
          this.waiters.clear();
        }
      });
    }
  }

  private fail(id: string): void {
    this.failures++;
    this.setEntry(id, { state: 'failed', retryAtMs: this.now() + this.opts.negativeTtlMs });
  }

  /** Tries the endpoints of the runtime the cgroup named first, then the others. */
  private async lookup(id: string): Promise<ContainerInfo | undefined> {
    const hint = this.hints.get(id);
    const fullId = hint?.fullId ?? id;
    const family = hint ? FAMILY[hint.runtime] : '';
    const ordered = [...this.opts.clients].sort((a, b) => Number(FAMILY[b.runtime] === family) - Number(FAMILY[a.runtime] === family));
    let lastErr: Error | undefined;
    for (const c of ordered) {
      if (!existsSync(c.endpoint)) continue;
      try {
        const info = await c.inspect(fullId);
        if (info) return info;
      } catch (err) {
        lastErr = err as Error;
      }
    }
    if (lastErr) throw lastErr;
    return undefined;
  }
}

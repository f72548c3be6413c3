import { spawnSync } from 'node:child_process';
import { describe, expect } from 'vitest';
import { eventTypeByName } from '../../src/probe/event-types';
import { openProbe } from '../../src/probe/probe';
import { actionsBinary, kernelIt } from './support';

describe('ring buffer overflow accounting', () => {
  kernelIt('a 16 KiB ring under a syscall flood counts drops and seen == delivered + dropped', async () => {
    // Only the legacy open(2): the flood uses it, the rest of the machine (glibc openat) does not.
    const openId = eventTypeByName('open')!.id;
    const exitId = eventTypeByName('procexit')!.id;
    const src = await openProbe({ ringBytes: 16 << 10, types: new Set(['open']), pressureFraction: 0 });
    try {
      const bin = actionsBinary();
      src.drainNow(() => undefined);
      const base = src.nativeStats()!;
      let delivered = 0;
      let deliveredOpens = 0;
      // No draining while the flood runs: the ring must overflow.
      const r = spawnSync(bin, ['flood', '20000']);
      expect(r.status).toBe(0);
      let stats = src.nativeStats()!;
      // Drain until a drain finds nothing and the counters did not move; each drain waits a
      // little, because the kernel counts an event as seen just before it submits the record.
      for (let i = 0; i < 100; i++) {
        await new Promise((res) => setTimeout(res, 20));
        const n = src.drainNow((batch) => {
          // procexit is never filtered (the process table depends on it).
          batch.forEach((ev) => {
            expect([openId, exitId]).toContain(ev.typeId);
            if (ev.typeId === openId) deliveredOpens++;
          });
        });
        delivered += n;
        const again = src.nativeStats()!;
        const still = again.seen === stats.seen && again.emitted === stats.emitted;
        stats = again;
        if (n === 0 && still) break;
      }
      const seen = stats.seen - base.seen;
      const dropped = stats.dropFull - base.dropFull + (stats.dropBig - base.dropBig) + (stats.dropOther - base.dropOther);
      expect(seen).toBeGreaterThanOrEqual(20000);
      expect(stats.dropFull - base.dropFull).toBeGreaterThan(0);
      const byType = (s: typeof stats, id: number): number => s.dropByType[id]! - base.dropByType[id]!;
      expect(byType(stats, openId)).toBeGreaterThan(0);
      expect(byType(stats, openId) + byType(stats, exitId)).toBe(stats.dropFull - base.dropFull);
      // Exact for open(2), which only the flood uses: every open the kernel saw was delivered or
      // counted as dropped. (procexit of other processes can straddle the snapshots, so the
      // all-types sum is only checked to within that edge.)
      const opensSeen = stats.seenByType[openId]! - base.seenByType[openId]!;
      expect(opensSeen).toBeGreaterThanOrEqual(20000);
      expect(deliveredOpens + byType(stats, openId)).toBe(opensSeen);
      expect(Math.abs(delivered + dropped - seen)).toBeLessThanOrEqual(2);
      const sourceStats = src.stats();
      expect(sourceStats.droppedRingFull).toBe(stats.dropFull);
      expect(sourceStats.delivered).toBe(delivered);
    } finally {
      await src.close();
    }
  });
});

/**
 * Reader wakeups on the real kernel. The fallback drain timer is set to a minute here, so whatever
 * reaches JS within the test came through a ring wakeup: with adaptive wakeups a lone event must
 * arrive by itself; without them it must wait for the poll timer.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect } from 'vitest';
import { openProbe, type KernelEventSource } from '../../src/probe/probe';
import { actionsBinary, kernelIt } from './support';

const MINUTE_MS = 60_000;

describe('ring wakeups', () => {
  let source: KernelEventSource | undefined;
  afterEach(async () => {
    await source?.close();
    source = undefined;
  });

  /** Starts delivery and opens `path` once from a child; resolves true once its open arrives. */
  async function loneOpenArrives(adaptiveWakeup: boolean, waitMs: number): Promise<boolean> {
    // Only opens under our prefix are written, so other tests' open floods cannot fill the ring up
    // to the byte mark (which forces a wakeup in either mode).
    source = await openProbe({
      types: new Set(['openat']),
      drainIntervalMs: MINUTE_MS,
      adaptiveWakeup,
      wakeupGapMs: 2,
      pressureFraction: 0,
      openFilter: { prefixes: ['/tmp/lanner-wakeup-'] },
    });
    const path = `/tmp/lanner-wakeup-${process.pid}-${adaptiveWakeup}`;
    let pid = -1;
    let arrived = false;
    await source.start((batch) =>
      batch.forEach((ev) => {
        if (ev.tgid === pid && ev.str(0) === path) arrived = true;
      }),
    );
    // Let the ring go quiet after attach, so the open below is a lone record.
    await new Promise((r) => setTimeout(r, 200));
    const r = spawnSync(actionsBinary(), ['openeach', `w:${path}`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    pid = r.pid!;
    const deadline = Date.now() + waitMs;
    while (!arrived && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    spawnSync('rm', ['-f', path]);
    return arrived;
  }

  kernelIt('adaptive: a lone event wakes the reader without the drain timer', async () => {
    expect(await loneOpenArrives(true, 10_000)).toBe(true);
  }, 20_000);

  kernelIt('polled: the main thread polls with timer slack of a quarter poll, restored at stop', async () => {
    // Tests run in forked processes: their JS thread is the process leader /proc reports on.
    const slackNs = (): number => Number(readFileSync(`/proc/${process.pid}/timerslack_ns`, 'utf8'));
    const before = slackNs();
    source = await openProbe({ types: new Set(['openat']), drainIntervalMs: 2 });
    await source.start(() => undefined);
    expect(slackNs()).toBe(500_000);
    await source.close();
    source = undefined;
    expect(slackNs()).toBe(before);
  }, 20_000);

  kernelIt('batched: a lone event waits for the poll timer', async () => {
    // Other processes' opens may cross nothing here: 16 MiB ring, mark at a quarter of it.
    expect(await loneOpenArrives(false, 1500)).toBe(false);
    // It is not lost: an explicit drain finds it.
    let found = 0;
    source!.drainNow((batch) => batch.forEach((ev) => void (ev.str(0)?.startsWith('/tmp/lanner-wakeup-') && found++)));
    expect(found).toBeGreaterThan(0);
  }, 20_000);
});

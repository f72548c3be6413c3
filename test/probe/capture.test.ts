import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { CaptureWriter, openCapture, recordCapture } from '../../src/probe/capture';
import { BufferBatch } from '../../src/probe/decoder';
import type { EventView } from '../../src/probe/event';
import { openProbe } from '../../src/probe/probe';
import { bootOffsetNs } from '../../src/probe/clock';
import { actionsBinary, kernelIt } from './support';

function snapshot(ev: EventView): unknown {
  return {
    typeId: ev.typeId, tsNs: ev.tsNs, cpu: ev.cpu, tid: ev.tid, tgid: ev.tgid, ptgid: ev.ptgid, uid: ev.uid, gid: ev.gid, euid: ev.euid,
    egid: ev.egid, loginuid: ev.loginuid, ret: ev.ret, cgroupId: ev.cgroupId, pidNs: ev.pidNs, mntNs: ev.mntNs, vpid: ev.vpid, tty: ev.tty,
    truncated: ev.truncated, comm: ev.comm(), args: [0, 1, 2, 3, 4, 5].map((i) => ev.rawArg(i)), str0: ev.str(0), str1: ev.str(1),
    sockaddr: ev.sockaddr(), capEff: ev.capEffective(), capPrm: ev.capPermitted(), argv: ev.argv(), exe: ev.exePath(), cwd: ev.cwd(),
    exeFlags: ev.exeFlags(),
  };
}

describe('capture record and replay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanner-cap-'));
  mkdirSync(join(dir, 'sub'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  kernelIt('replaying a capture gives the same events the live probe delivered', async () => {
    const file = join(dir, 'live.lcap');
    const src = await openProbe({ ringBytes: 64 << 20 });
    const live: unknown[] = [];
    const writer = new CaptureWriter(file);
    try {
      src.drainNow(() => undefined);
      const r = spawnSync(actionsBinary(), ['all', dir]);
      expect(r.status).toBe(7);
      src.drainNow((batch) => {
        writer.writeRecords((batch as BufferBatch).buffer, (batch as BufferBatch).byteLength, (batch as BufferBatch).recordCount);
        batch.forEach((ev) => live.push(snapshot(ev)));
      });
    } finally {
      writer.close();
      await src.close();
    }
    expect(live.length).toBeGreaterThan(10);
    const replay = openCapture(file);
    expect(replay.header.bootOffsetNs).toBe(bootOffsetNs());
    const replayed: unknown[] = [];
    await replay.start((batch) => batch.forEach((ev) => replayed.push(snapshot(ev))));
    await replay.done;
    expect(replayed).toEqual(live);
    expect(replay.stats().delivered).toBe(live.length);
  });

  kernelIt('recordCapture writes a replayable file for a duration', async () => {
    const file = join(dir, 'rec.lcap');
    const pending = recordCapture({ file, durationS: 1.5, probeOptions: { types: new Set(['execve']) } });
    await new Promise((res) => setTimeout(res, 1200)); // probe load takes ~1 s
    const r = spawnSync('/bin/true');
    const result = await pending;
    expect(statSync(file).size).toBe(64 + result.bytes + 16 * result.stats.batches);
    const replay = openCapture(file);
    const pids: number[] = [];
    await replay.start((b) => b.forEach((ev) => pids.push(ev.tgid)));
    await replay.done;
    expect(pids).toContain(r.pid);
  });
});

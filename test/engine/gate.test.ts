/**
 * The engine's evaluation gate: an event the gate holds (a container's first exec waiting for the
 * container's metadata) and everything after it wait in the bounded queue, in order, until the
 * wait settles, times out, or the queue is half full; then they are evaluated in arrival order.
 */
import { describe, expect, it } from 'vitest';
import { Engine, type EvaluationGate, type EventHook } from '../../src/engine/rule-engine';
import type { EventView } from '../../src/probe/event';
import { eventTypeByName } from '../../src/probe/event-types';
import { syntheticBatch, syntheticEvent } from '../../src/probe/synthetic';
import { FakeState } from '../rules/fake-state';

const EXECVE = eventTypeByName('execve')!.id;

/** Records the tgid of every event the engine evaluates, in order. */
class Seen implements EventHook {
  readonly order: number[] = [];
  beforeRules(ev: EventView): void {
    this.order.push(ev.tgid);
  }
}

/** Holds the exec of tgid `heldTgid` until `release()` is called; counts how often it was asked. */
function gateHolding(heldTgid: number, maxHoldMs = 10_000): EvaluationGate & { release(): void; asked: number } {
  let release!: () => void;
  const wait = new Promise<void>((r) => (release = r));
  const gate = {
    gatedEventTypes: [EXECVE],
    maxHoldMs,
    asked: 0,
    release: () => release(),
    holdFor(ev: EventView): Promise<void> | undefined {
      if (ev.tgid !== heldTgid) return undefined;
      gate.asked++;
      return wait;
    },
  };
  return gate;
}

function engine(gate: EvaluationGate | undefined, seen: Seen, queueCapacity = 1024): Engine {
  const e = new Engine({ reader: new FakeState(), hooks: [seen], onAlert: () => {}, bootOffsetNs: 0n, hostname: 'n', queueCapacity, ...(gate ? { gate } : {}) });
  return e;
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ev = (type: string, tgid: number): EventView => syntheticEvent({ type, tgid });

describe('evaluation gate', () => {
  it('holds the gated event and everything after it until the wait settles, then evaluates in order', async () => {
    const seen = new Seen();
    const gate = gateHolding(2);
    const e = engine(gate, seen);
    e.processBatch(syntheticBatch([ev('open', 1), ev('execve', 2), ev('open', 3)]));
    e.processBatch(syntheticBatch([ev('close', 4)]));
    await tick(20);
    expect(seen.order).toEqual([1]);
    expect(e.stats().queue.depth).toBe(3);
    gate.release();
    await tick(20);
    expect(seen.order).toEqual([1, 2, 3, 4]);
    expect(gate.asked).toBe(1);
    expect(e.stats().holds).toEqual({ settled: 1, timedOut: 0, queueHalfFull: 0 });
  });

  it('ends a hold after maxHoldMs, and the held event goes on without being held again', async () => {
    const seen = new Seen();
    const gate = gateHolding(2, 30);
    const e = engine(gate, seen);
    e.processBatch(syntheticBatch([ev('execve', 2), ev('open', 3)]));
    await tick(5);
    expect(seen.order).toEqual([]);
    await tick(80);
    expect(seen.order).toEqual([2, 3]);
    expect(gate.asked).toBe(1);
    expect(e.stats().holds.timedOut).toBe(1);
  });

  it('ends a hold when the queue is half full instead of dropping what arrives meanwhile', async () => {
    const seen = new Seen();
    const gate = gateHolding(2);
    const e = engine(gate, seen, 8);
    e.processBatch(syntheticBatch([ev('execve', 2), ev('open', 3)]));
    e.processBatch(syntheticBatch([ev('open', 4), ev('open', 5)]));
    await tick(20);
    expect(seen.order).toEqual([2, 3, 4, 5]);
    expect(e.stats().holds.queueHalfFull).toBe(1);
    expect(e.stats().queue.dropped).toBe(0);
  });

  it('asks about gated event types only, and evaluates at once when the gate says go on', () => {
    const seen = new Seen();
    const asked: string[] = [];
    const gate: EvaluationGate = {
      gatedEventTypes: [EXECVE],
      maxHoldMs: 1000,
      holdFor: (x) => {
        asked.push(String(x.tgid));
        return undefined;
      },
    };
    const e = engine(gate, seen);
    e.processBatch(syntheticBatch([ev('open', 1), ev('execve', 2), ev('close', 3)]));
    expect(seen.order).toEqual([1, 2, 3]);
    expect(asked).toEqual(['2']);
    expect(e.stats().holds).toEqual({ settled: 0, timedOut: 0, queueHalfFull: 0 });
  });

  it('a second container starting behind a hold is held in its turn when it reaches the head', async () => {
    const seen = new Seen();
    const first = gateHolding(2);
    const second = gateHolding(4);
    const gate: EvaluationGate = { gatedEventTypes: [EXECVE], maxHoldMs: 10_000, holdFor: (x) => first.holdFor(x) ?? second.holdFor(x) };
    const e = engine(gate, seen);
    e.processBatch(syntheticBatch([ev('execve', 2), ev('open', 3), ev('execve', 4), ev('open', 5)]));
    first.release();
    await tick(20);
    expect(seen.order).toEqual([2, 3]);
    second.release();
    await tick(20);
    expect(seen.order).toEqual([2, 3, 4, 5]);
    expect(e.stats().holds.settled).toBe(2);
  });

  it('flush evaluates everything, holds or not (shutdown)', () => {
    const seen = new Seen();
    const e = engine(gateHolding(2), seen);
    e.processBatch(syntheticBatch([ev('execve', 2), ev('open', 3)]));
    e.flush();
    expect(seen.order).toEqual([2, 3]);
  });
});

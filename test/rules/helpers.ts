import { ConditionCompiler } from '../../src/rules/compile';
import { ExtractContext } from '../../src/rules/context';
import { inlineSource, parseCondition } from '../../src/rules/parser';
import type { EventView } from '../../src/probe/event';
import { syntheticEvent, type SyntheticEventInit } from '../../src/probe/synthetic';
import { FakeState } from './fake-state';

/** Compiles one condition (no macros) and evaluates it against one event. */
export function evalCond(cond: string, ev: EventView | SyntheticEventInit, state: FakeState = new FakeState()): boolean {
  const compiler = new ConditionCompiler();
  const pred = compiler.compile(parseCondition(inlineSource(cond)));
  const ctx = new ExtractContext(state, compiler.slotCount, compiler.nodeCount, 0n, 'node-1');
  ctx.evtNum = 7;
  ctx.reset('typeId' in ev ? ev : syntheticEvent(ev));
  return pred(ctx);
}

/** Column (1-based) of the first syntax error, or 'ok'. */
export function parseErrorColumn(cond: string): number | 'ok' {
  try {
    parseCondition(inlineSource(cond));
    return 'ok';
  } catch (err) {
    const e = err as { at?: number; message: string };
    if (typeof e.at !== 'number') throw err;
    return e.at + 1;
  }
}

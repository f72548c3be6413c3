/** The `thread.*` class: the calling thread and its capability sets. */
import { renderCapabilities } from '../render';
import { field, type FieldDef } from './field';

export const THREAD_FIELDS: readonly FieldDef[] = [
  field('thread.tid', 'int64', 'thread id', (c) => c.ev.tid),
  field('thread.cap_effective', 'string', 'effective capabilities as names', (c) => renderCapabilities(c.ev.capEffective() || c.process()?.capEffective || 0n)),
  field('thread.cap_permitted', 'string', 'permitted capabilities as names', (c) => renderCapabilities(c.ev.capPermitted() || c.process()?.capPermitted || 0n)),
];

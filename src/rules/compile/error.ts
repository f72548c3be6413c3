/** The one error type of condition and output compilation, and the position it reports. */
import type { SourcePosition } from '../messages';

/** A place in a condition's text: enough to report file:line:column. */
export interface SourceNode {
  readonly at: number;
  readonly src: { locate(offset: number): SourcePosition };
}

export class CompileError extends Error {
  constructor(
    message: string,
    readonly node: SourceNode,
    /** Unknown field / event type: what `skip-if-unknown-filter` forgives. */
    readonly unknownFilter = false,
    readonly offset = node.at,
  ) {
    super(message);
    this.name = 'CompileError';
  }
}

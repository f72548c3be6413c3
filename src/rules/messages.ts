/**
 * Load results: errors and warnings with Falco's codes and a position (file, 1-based line and
 * column) so `lanner validate` output can be pasted into an editor.
 */

export type LoadErrorCode =
  | 'LOAD_ERR_FILE_READ'
  | 'LOAD_ERR_YAML_PARSE'
  | 'LOAD_ERR_YAML_VALIDATE'
  | 'LOAD_ERR_COMPILE_CONDITION'
  | 'LOAD_ERR_COMPILE_OUTPUT'
  | 'LOAD_ERR_VALIDATE'
  | 'LOAD_ERR_EXTENSION';

export type LoadWarningCode =
  | 'LOAD_UNKNOWN_SOURCE'
  | 'LOAD_UNSAFE_NA_CHECK'
  | 'LOAD_NO_EVTTYPE'
  | 'LOAD_UNKNOWN_FILTER'
  | 'LOAD_UNUSED_MACRO'
  | 'LOAD_UNUSED_LIST'
  | 'LOAD_UNKNOWN_ITEM'
  | 'LOAD_UNKNOWN_KEY'
  | 'LOAD_DEPRECATED_ITEM'
  | 'LOAD_DEPRECATED_FIELD'
  | 'LOAD_WARNING_EXTENSION'
  | 'LOAD_APPEND_NO_VALUES'
  | 'LOAD_EXCEPTION_NAME_NOT_UNIQUE'
  | 'LOAD_INVALID_MACRO_NAME'
  | 'LOAD_INVALID_LIST_NAME'
  | 'LOAD_COMPILE_CONDITION'
  /** Lanner: the rule names an event type Falco knows that this probe does not trace. */
  | 'LOAD_UNTRACED_EVTTYPE'
  /** Lanner: the rule uses a field this probe can never fill (always null, comparisons false). */
  | 'LOAD_FIELD_ALWAYS_NULL';

export type ItemKind = 'rule' | 'macro' | 'list' | 'required_engine_version' | 'required_plugin_versions' | 'exception' | 'file' | 'unknown';

export interface SourcePosition {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface LoadMessage extends SourcePosition {
  readonly itemKind: ItemKind;
  readonly itemName: string;
  readonly code: LoadErrorCode | LoadWarningCode;
  readonly message: string;
}

export function formatLoadMessage(m: LoadMessage): string {
  const item = m.itemName ? ` ${m.itemKind} '${m.itemName}'` : '';
  return `${m.file}:${m.line}:${m.column}: ${m.code}${item}: ${m.message}`;
}

/** Thrown inside the loader to abort the current file at its first error (Falco's behaviour). */
export class LoadAbort extends Error {
  constructor(readonly detail: LoadMessage) {
    super(formatLoadMessage(detail));
    this.name = 'LoadAbort';
  }
}

/**
 * The message, then the offending source line and a caret under its column, as Falco's
 * `--validate` prints them. `lineOf` returns a 1-based line of a file (undefined when unknown).
 */
export function formatLoadMessageWithSource(m: LoadMessage, lineOf: (file: string, line: number) => string | undefined): string {
  const head = formatLoadMessage(m);
  const text = lineOf(m.file, m.line);
  if (text === undefined) return head;
  const col = Math.max(1, Math.min(m.column, text.length + 1));
  // Keep tabs in the indent so the caret lines up whatever the tab width.
  const pad = text.slice(0, col - 1).replace(/[^\t]/g, ' ');
  return `${head}\n  ${text}\n  ${pad}^`;
}

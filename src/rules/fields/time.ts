/** Event time and its text forms (UTC), for the `evt.time*` fields. */
import type { ExtractContext, FieldValue } from '../context';

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}
function splitNs(v: FieldValue): { d: Date; frac: string } {
  const ns = typeof v === 'bigint' ? v : BigInt(v as number);
  const ms = Number(ns / 1_000_000n);
  return { d: new Date(ms), frac: pad(Number(ns % 1_000_000_000n), 9) };
}

/** `HH:MM:SS.nnnnnnnnn`. */
export function timeOfDay(v: FieldValue): string {
  const { d, frac } = splitNs(v);
  return `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${frac}`;
}
export function isoTime(v: FieldValue): string {
  const { d, frac } = splitNs(v);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${frac}Z`;
}
export function dateTime(v: FieldValue): string {
  return isoTime(v).replace('T', ' ').replace('Z', '');
}

/** Wall-clock time of the event in ns since the epoch. */
export const evtTime = (c: ExtractContext): bigint => BigInt(Math.trunc(c.ev.tsNs)) + c.bootOffsetNs;

/** Event time and its text forms (UTC), for the `evt.time*` fields. */
import { isoTimeNs, timeOfDayNs } from '../../lib/time-format';
import type { ExtractContext, FieldValue } from '../context';

const ns = (v: FieldValue): bigint => (typeof v === 'bigint' ? v : BigInt(v as number));

/** `HH:MM:SS.nnnnnnnnn`. */
export function timeOfDay(v: FieldValue): string {
  return timeOfDayNs(ns(v));
}
/** `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`. */
export function isoTime(v: FieldValue): string {
  return isoTimeNs(ns(v));
}
/** `YYYY-MM-DD HH:MM:SS.nnnnnnnnn`. */
export function dateTime(v: FieldValue): string {
  return isoTime(v).replace('T', ' ').replace('Z', '');
}

/** Wall-clock time of the event in ns since the epoch. */
export const evtTime = (c: ExtractContext): bigint => BigInt(Math.trunc(c.ev.tsNs)) + c.bootOffsetNs;

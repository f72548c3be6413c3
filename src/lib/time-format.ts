/**
 * Event times as text, UTC: ISO 8601 with nanoseconds (Falco's alert `time`), with microseconds
 * (RFC 5424 syslog), and the time of day (`%evt.time`). The one formatter for alerts and fields.
 */

const NS_PER_S = 1_000_000_000n;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Alerts come in bursts within one second: the date part is rendered once per second. */
let cachedSecond = -1n;
let cachedIsoSeconds = '';
let cachedTimeOfDay = '';

function splitNs(timeNs: bigint): { iso: string; tod: string; frac: string } {
  const t = timeNs < 0n ? 0n : timeNs;
  const seconds = t / NS_PER_S;
  if (seconds !== cachedSecond) {
    const d = new Date(Number(seconds) * 1000);
    cachedIsoSeconds = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T`;
    cachedTimeOfDay = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
    cachedIsoSeconds += cachedTimeOfDay;
    cachedSecond = seconds;
  }
  return { iso: cachedIsoSeconds, tod: cachedTimeOfDay, frac: pad(Number(t % NS_PER_S), 9) };
}

/** `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, UTC, always 9 fractional digits. */
export function isoTimeNs(timeNs: bigint): string {
  const { iso, frac } = splitNs(timeNs);
  return `${iso}.${frac}Z`;
}

/** RFC 5424 allows at most 6 fractional digits (TIME-SECFRAC), so syslog gets microseconds. */
export function isoTimeUs(timeNs: bigint): string {
  const { iso, frac } = splitNs(timeNs);
  return `${iso}.${frac.slice(0, 6)}Z`;
}

/** Falco's `%evt.time`: UTC time of day with ns, `HH:MM:SS.nnnnnnnnn`. */
export function timeOfDayNs(timeNs: bigint): string {
  const { tod, frac } = splitNs(timeNs);
  return `${tod}.${frac}`;
}

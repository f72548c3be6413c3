/** Splits an image reference into repository, tag and digest the way `container.image.*` shows them. */
export interface ImageRef {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  // A ':' after the last '/' is a tag; before it, a registry port (localhost:5000/app).
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { repository: rest, tag: '', digest };
}

/** The digest part of `repo@sha256:…`, '' when the reference has none. */
export function digestOf(ref: string): string {
  const at = ref.indexOf('@');
  return at < 0 ? '' : ref.slice(at + 1);
}

/** RFC 3339 with up to nanosecond fraction → ns since the epoch (Date.parse stops at ms). */
export function rfc3339ToNs(text: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms) || ms <= 0) return 0n;
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/**
 * falcosidekick's input contract, written from its documented behaviour (reference §3): the body
 * must decode into its payload struct (typed keys) and pass its Check(): known priority, non-empty
 * rule, non-zero RFC 3339 time, at least one output field. Returns the reasons it would answer 400.
 */
const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'info', 'debug'];
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

function rfc3339Problem(t: string): string | undefined {
  const m = RFC3339.exec(t);
  if (!m) return `time ${JSON.stringify(t)} is not RFC 3339`;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || s > 60) return `time ${t} has an out-of-range component`;
  if (y === 1 && mo === 1 && d === 1 && h === 0 && mi === 0 && s === 0 && !/[1-9]/.test(m[7] ?? '')) return 'time is the zero time';
  return undefined;
}

export function sidekickRejections(body: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (err) {
    return [`body is not JSON: ${(err as Error).message}`];
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['body is not a JSON object'];
  const p = v as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of ['uuid', 'output', 'rule', 'source', 'hostname', 'priority', 'time']) {
    if (k in p && typeof p[k] !== 'string') problems.push(`${k} is not a string`);
  }
  if ('tags' in p && !(Array.isArray(p.tags) && p.tags.every((t) => typeof t === 'string'))) problems.push('tags is not an array of strings');
  if ('output_fields' in p && (typeof p.output_fields !== 'object' || p.output_fields === null || Array.isArray(p.output_fields))) problems.push('output_fields is not an object');
  if (typeof p.priority !== 'string' || !PRIORITIES.includes(p.priority.toLowerCase())) problems.push(`priority ${JSON.stringify(p.priority)} unknown`);
  if (typeof p.rule !== 'string' || p.rule === '') problems.push('rule empty');
  if (typeof p.time !== 'string') problems.push('time missing');
  else {
    const t = rfc3339Problem(p.time);
    if (t) problems.push(t);
  }
  const of = p.output_fields;
  if (typeof of !== 'object' || of === null || Object.keys(of).length === 0) problems.push('output_fields empty');
  return problems;
}

export function expectSidekickAccepts(body: string): void {
  const problems = sidekickRejections(body);
  if (problems.length > 0) throw new Error(`falcosidekick would reject ${body.slice(0, 200)}: ${problems.join('; ')}`);
}

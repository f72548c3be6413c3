import { request } from 'node:http';
import { createServer } from 'node:net';

/** A loopback TCP port that was free a moment ago (the caller binds it; retry on EADDRINUSE). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** GET over loopback HTTP: status and body (the agent's /metrics, /readyz…). */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The values of one metric family in Prometheus exposition text whose labels contain every one of
 * `labels` (e.g. `type="openat"`), summed; throws when no sample matches.
 */
export function metricValue(text: string, family: string, ...labels: string[]): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${family} `) || line.startsWith(`${family}{`))) continue;
    if (!labels.every((l) => line.includes(l))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  if (!found) throw new Error(`no ${family}${labels.length ? ` with ${labels.join(', ')}` : ''} in /metrics`);
  return sum;
}

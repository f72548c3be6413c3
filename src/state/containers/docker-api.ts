/**
 * Docker Engine API client over a unix socket (dockerd, or podman's Docker-compatible service):
 * `GET /containers/<id>/json`, plus `GET /images/<id>/json` for the repo digest when the container
 * was started by tag.
 */
import { request } from 'node:http';
import type { ContainerInfo } from '../types';
import { type ContainerRuntimeClient, makeContainerInfo, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from './client';
import { digestOf, parseImageRef, rfc3339ToNs } from './image-ref';

const MAX_BODY_BYTES = 4 << 20;

interface HttpResult {
  readonly status: number;
  readonly body: string;
}

function getJson(socketPath: string, path: string, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', headers: { Host: 'docker', Accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy(new Error(`response from ${socketPath}${path} exceeds ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms on ${socketPath}${path}`)));
    req.on('error', reject);
    req.end();
  });
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Maps a `/containers/<id>/json` document to ContainerInfo (exported for unit tests). */
export function containerFromInspect(doc: unknown, runtime: ContainerInfo['runtime'], repoDigest: string): ContainerInfo | undefined {
  const d = obj(doc);
  const fullId = str(d['Id']);
  if (!/^[0-9a-f]{64}$/.test(fullId)) return undefined;
  const config = obj(d['Config']);
  const hostConfig = obj(d['HostConfig']);
  const state = obj(d['State']);
  const labels = stringRecord(config['Labels']);
  // podman reports the reference in ImageName; docker only in Config.Image.
  const image = str(config['Image']) || str(d['ImageName']);
  const ref = parseImageRef(image);
  const mounts = Array.isArray(d['Mounts'])
    ? (d['Mounts'] as unknown[]).map((m) => {
        const o = obj(m);
        return { source: str(o['Source']), dest: str(o['Destination']), mode: str(o['Mode']), rw: o['RW'] === true, propagation: str(o['Propagation']) };
      })
    : [];
  return makeContainerInfo({
    fullId,
    runtime,
    name: str(d['Name']).replace(/^\//, ''),
    image,
    imageRepository: ref.repository,
    imageTag: ref.tag,
    imageDigest: ref.digest || repoDigest,
    privileged: hostConfig['Privileged'] === true,
    mounts,
    startTsNs: rfc3339ToNs(str(state['StartedAt'])),
    podName: labels[POD_NAME_LABEL] ?? '',
    podNamespace: labels[POD_NAMESPACE_LABEL] ?? '',
    podUid: labels[POD_UID_LABEL] ?? '',
  });
}

export class DockerApiClient implements ContainerRuntimeClient {
  constructor(
    readonly endpoint: string,
    readonly runtime: 'docker' | 'podman',
    private readonly timeoutMs: number,
  ) {}

  async inspect(fullId: string): Promise<ContainerInfo | undefined> {
    const res = await getJson(this.endpoint, `/containers/${encodeURIComponent(fullId)}/json`, this.timeoutMs);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`${this.endpoint}: GET /containers/${fullId}/json: HTTP ${res.status}`);
    const doc = JSON.parse(res.body) as unknown;
    const d = obj(doc);
    let repoDigest = '';
    const imageId = str(d['Image']);
    if (!digestOf(str(obj(d['Config'])['Image'])) && imageId) {
      try {
        const img = await getJson(this.endpoint, `/images/${encodeURIComponent(imageId)}/json`, this.timeoutMs);
        if (img.status === 200) {
          const digests = obj(JSON.parse(img.body))['RepoDigests'];
          if (Array.isArray(digests) && typeof digests[0] === 'string') repoDigest = digestOf(digests[0]);
        }
      } catch {
        // The digest is optional detail; the container itself is known.
      }
    }
    return containerFromInspect(doc, this.runtime, repoDigest);
  }

  close(): void {}
}

/**
 * Writes a single-layer OCI image archive (an OCI image layout in a tar) from a directory, for
 * runtimes that cannot pull: `ctr images import` reads it, naming the image from the index's
 * `io.containerd.image.name` annotation. The layer is an uncompressed tar of the directory with
 * every file owned by root.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OciImageSpec {
  /** Full reference, e.g. `localhost/lanner-test/busybox:1.35.0`. */
  readonly name: string;
  /** Directory that becomes the image's root filesystem. */
  readonly rootfs: string;
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Stores `data` as a blob of the layout and returns its descriptor. */
function putBlob(layout: string, mediaType: string, data: Buffer): Descriptor {
  const digest = sha256(data);
  writeFileSync(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), data);
  return { mediaType, digest, size: data.length };
}

/** Builds the archive at `out` (a tar file) and returns the image's config digest (its image id). */
export function writeOciArchive(spec: OciImageSpec, out: string): string {
  const work = mkdtempSync(join(tmpdir(), 'lanner-oci-'));
  try {
    const layout = join(work, 'layout');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    const layerTar = join(work, 'layer.tar');
    // Sorted, root-owned and time-stable entries: the same directory gives the same digest.
    execFileSync('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-C', spec.rootfs, '-cf', layerTar, '.']);
    const layerData = readFileSync(layerTar);
    const layer = putBlob(layout, 'application/vnd.oci.image.layer.v1.tar', layerData);
    const config = {
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      history: [{ created_by: 'lanner test/deploy/oci-archive.ts' }],
    };
    const configDesc = putBlob(layout, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(config)));
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers: [layer] };
    const manifestDesc = putBlob(layout, 'application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify(manifest)));
    const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          ...manifestDesc,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    };
    writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const tmpOut = `${out}.partial`;
    execFileSync('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '-C', layout, '-cf', tmpOut, 'oci-layout', 'index.json', 'blobs']);
    renameSync(tmpOut, out);
    return configDesc.digest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Reads the PEM files named in a sink's `tls:` block; empty names mean "not set". */
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  readonly ca_file: string;
  readonly cert_file: string;
  readonly key_file: string;
  /** Skip verification of the peer's certificate (testing only). */
  readonly insecure: boolean;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

export function loadTlsMaterial(tls: TlsFiles): TlsMaterial {
  const out: TlsMaterial = { rejectUnauthorized: !tls.insecure };
  if (tls.ca_file) out.ca = readFileSync(tls.ca_file);
  if (tls.cert_file) out.cert = readFileSync(tls.cert_file);
  if (tls.key_file) out.key = readFileSync(tls.key_file);
  return out;
}

/**
 * An independent encoder for probe records, written from native/bpf/events.h (not from the
 * decoder), so decoder tests compare two readings of the layout.
 */
export interface RecordInit {
  tsNs: number;
  type: number;
  flags?: number;
  tid: number;
  tgid: number;
  ptgid: number;
  cpu: number;
  cgroupId: number;
  ret: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  loginuid: number; // raw u32
  vpid: number;
  pidNs: number;
  mntNs: number;
  tty: number;
  exeFlags: number;
  capEff: bigint;
  capPrm: bigint;
  args: bigint[]; // 6 signed 64-bit
  comm: string;
  str0?: Uint8Array;
  str1?: Uint8Array;
  sockaddr?: Uint8Array;
  argv?: Uint8Array;
  exe?: Uint8Array;
  cwd?: Uint8Array;
}

export function encodeRecord(r: RecordInit): Uint8Array {
  const parts = [r.str0, r.str1, r.sockaddr, r.argv, r.exe, r.cwd];
  let size = 192;
  for (const p of parts) if (p) size += p.length + 1;
  size = (size + 7) & ~7;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setBigUint64(0, BigInt(r.tsNs), true);
  dv.setUint32(8, size, true);
  dv.setUint16(12, r.type, true);
  dv.setUint16(14, r.flags ?? 0, true);
  dv.setUint32(16, r.tid, true);
  dv.setUint32(20, r.tgid, true);
  dv.setUint32(24, r.ptgid, true);
  dv.setUint32(28, r.cpu, true);
  dv.setBigUint64(32, BigInt(r.cgroupId), true);
  dv.setBigInt64(40, BigInt(r.ret), true);
  const u32s = [r.uid, r.gid, r.euid, r.egid, r.loginuid, r.vpid, r.pidNs, r.mntNs, r.tty, r.exeFlags];
  u32s.forEach((v, i) => dv.setUint32(48 + 4 * i, v, true));
  dv.setBigUint64(88, r.capEff, true);
  dv.setBigUint64(96, r.capPrm, true);
  r.args.forEach((a, i) => dv.setBigInt64(104 + 8 * i, a, true));
  buf.set(new TextEncoder().encode(r.comm).subarray(0, 15), 152);
  let off = 192;
  parts.forEach((p, slot) => {
    if (!p) return;
    buf.set(p, off);
    dv.setUint16(168 + slot * 4, off, true);
    dv.setUint16(170 + slot * 4, p.length, true);
    off += p.length + 1;
  });
  return buf;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Capture chunk framing per src/probe/capture.ts's format comment. */
export function encodeChunk(records: Uint8Array[]): Uint8Array {
  const payload = concat(records);
  const head = new Uint8Array(16);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, 0x42524e4c, true);
  dv.setUint32(4, payload.length, true);
  dv.setUint32(8, records.length, true);
  return concat([head, payload]);
}

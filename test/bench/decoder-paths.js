#!/usr/bin/env node
/*
 * Decoder path reads: a batch of open records (four paths, none needing normalisation) read with
 * str(0) three times per event, as fd.name, fd.directory and evt.arg.name do for one rule set.
 * Reports CPU ns per event. Prints one JSON object.
 *
 *   node test/bench/decoder-paths.js [--dist dist] [--batches 20000]
 */
'use strict';
const path = require('node:path');

const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const DIST = path.resolve(__dirname, '../..', arg('--dist', 'dist'));
const BATCHES = Number(arg('--batches', '20000'));

const { BufferBatch } = require(path.join(DIST, 'probe/decoder.js'));
const { eventTypeByName } = require(path.join(DIST, 'probe/event-types.js'));
const { OFF, SLOT, HEADER_SIZE } = require(path.join(DIST, 'probe/layout.js'));

function openRecord(p) {
  const bytes = Buffer.from(p);
  const size = (HEADER_SIZE + bytes.length + 1 + 7) & ~7;
  const u8 = new Uint8Array(size);
  const dv = new DataView(u8.buffer);
  dv.setUint32(OFF.size, size, true);
  dv.setUint16(OFF.type, eventTypeByName('openat').id, true);
  dv.setUint32(OFF.tgid, 1, true);
  u8.set(bytes, HEADER_SIZE);
  dv.setUint16(OFF.desc + SLOT.str0 * 4, HEADER_SIZE, true);
  dv.setUint16(OFF.desc + SLOT.str0 * 4 + 2, bytes.length, true);
  return u8;
}

const paths = ['/etc/ld.so.cache', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/proc/self/status', '/var/lib/kubelet/pods/abc/volumes/x'];
const records = Array.from({ length: 256 }, (_, i) => openRecord(paths[i % paths.length]));
const bytes = records.reduce((n, r) => n + r.length, 0);
const buffer = new ArrayBuffer(bytes);
let at = 0;
for (const r of records) {
  new Uint8Array(buffer).set(r, at);
  at += r.length;
}
const batch = new BufferBatch(buffer);
let sink = 0;
const run = (n) => {
  for (let k = 0; k < n; k++) {
    batch.reset(bytes);
    batch.forEach((ev) => {
      sink += ev.str(0).length + ev.str(0).length + ev.str(0).length;
    });
  }
};
run(Math.ceil(BATCHES / 10)); // warm-up: optimised code before the measured part
const t0 = process.cpuUsage();
run(BATCHES);
const t = process.cpuUsage(t0);
const events = BATCHES * records.length;
console.log(JSON.stringify({ bench: 'decoder_paths', events, reads_per_event: 3, cpu_ns_per_event: Number((((t.user + t.system) * 1000) / events).toFixed(1)), check: sink > 0 }, null, 2));

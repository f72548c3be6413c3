/**
 * Probe timestamps are CLOCK_BOOTTIME ns (bpf_ktime_get_boot_ns). Adding the boot offset gives
 * ns since the epoch: `epochNs = BigInt(tsNs) + bootOffsetNs()`.
 */
import { tryLoadAddon } from './native';

let offset: bigint | undefined;

/** CLOCK_REALTIME − CLOCK_BOOTTIME in ns, measured once (wall-clock steps later are not followed). */
export function bootOffsetNs(): bigint {
  if (offset !== undefined) return offset;
  const addon = tryLoadAddon();
  if (addon) {
    const { realtimeNs, boottimeNs } = addon.clocks();
    offset = realtimeNs - boottimeNs;
  } else {
    // Without the addon Node only has CLOCK_MONOTONIC, which equals BOOTTIME unless the host suspended.
    offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  }
  return offset;
}

/** Converts a probe timestamp to ns since the epoch. */
export function toEpochNs(tsNs: number, bootOffset: bigint = bootOffsetNs()): bigint {
  return BigInt(Math.trunc(tsNs)) + bootOffset;
}

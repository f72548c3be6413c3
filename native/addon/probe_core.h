// Probe lifecycle on libbpf, free of N-API so it can be reasoned about (and reused) on its own.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../bpf/events.h"

struct lanner_probe;
struct ring_buffer;
struct bpf_link;

namespace lanner {

struct ProbeOptions {
  uint64_t ringBytes = 16u << 20;
  uint32_t maxStringBytes = 4096;
  uint32_t maxArgvBytes = 4096;
  uint32_t maxEnvBytes = 0;  // exec environment; argv + env share LNR_MAX_ARGV so records fit
  bool dropFailed = false;
  bool closeTrackedOnly = true;
  bool enterHooks = true;  // TOCTOU-safe copies of open paths / connect addresses at entry
  double wakeupFraction = 0.25;
  bool adaptiveWakeup = false;  // also wake the reader for a record written while it had caught up
  double pressureFraction = 0.75;
  std::vector<uint32_t> selfTgids;
};

// An error with the errno name user space switches on and, for load failures, libbpf's log.
struct ProbeError {
  std::string code;  // EPERM, ENOBTF, EVERIFIER, ENOMEM, ...
  int err = 0;
  std::string message;
  std::string log;
};

struct CounterTotals {
  uint64_t seen = 0, emitted = 0, dropFull = 0, dropBig = 0, dropOther = 0, stashMiss = 0;
  uint64_t filteredByPath = 0;  // opens the path-prefix filter kept in the kernel (not drops)
  uint64_t seenByType[LNR_EVT_COUNT] = {};
  uint64_t dropByType[LNR_EVT_COUNT] = {};
};

// Where the ring callback copies to during one Drain call.
struct DrainState {
  uint8_t* buf = nullptr;
  size_t cap = 0;
  size_t used = 0;
  uint32_t count = 0;
  bool full = false;
};

// One drain into a caller-owned buffer.
struct DrainResult {
  size_t bytes = 0;
  uint32_t count = 0;
  bool more = false;  // stopped because the buffer was nearly full: call again
  int err = 0;
};

class ProbeCore {
 public:
  static std::unique_ptr<ProbeCore> Open(const ProbeOptions& opts, ProbeError* error);
  ~ProbeCore();
  ProbeCore(const ProbeCore&) = delete;
  ProbeCore& operator=(const ProbeCore&) = delete;

  bool Attach(ProbeError* error);
  // enabled[typeId] != 0 -> the type's syscalls are reported. Returns 0 or -errno.
  int SetInterestingTypes(const uint8_t* enabled, size_t count);
  // enabled[typeId] != 0 -> fds returned by that type are remembered so their close is shipped.
  int SetTrackedFdTypes(const uint8_t* enabled, size_t count);
  // The in-kernel path filters (events.h): for opens and for path changes, each off or on with
  // these atoms (prefix, exact path, suffix, or a substring (for opens that can write only); writeOnly limits an open atom to opens that can
  // write), process names and, for changes, the event type ids it judges. -EINVAL for an empty
  // atom, one with a NUL or a prefix or exact path that is not absolute; -E2BIG past the tables'
  // sizes (LNR_PATH_PREFIX_MAX / _LEN, LNR_PATH_SUFFIX_MAX / _LEN, LNR_PATH_NEEDLE_MAX / _LEN, LNR_FILTER_COMM_MAX names for
  // both filters together). Returns 0 or -errno.
  static constexpr uint8_t kMatchPrefix = 0, kMatchExact = 1, kMatchSuffix = 2, kMatchContains = 3;
  struct PathAtom {
    std::string text;
    uint8_t match = kMatchPrefix;
    bool writeOnly = false;
  };
  struct PathFilterSpec {
    bool on = false;
    std::vector<PathAtom> atoms;
    std::vector<std::string> comms;
    std::vector<uint32_t> types;
    uint32_t modeMask = 0;  // change filter: chmod/mkdir calls with one of these mode bits ship
  };
  int SetPathFilters(const PathFilterSpec& open, const PathFilterSpec& change);
  // Replaces the alias targets (events.h): files and directories by inode, with the path an open
  // reaching them reports. -E2BIG past LNR_ALIAS_MAX targets or LNR_ALIAS_PATH_LEN - 1 bytes,
  // -EINVAL for an empty or relative path. Returns 0 or -errno.
  struct AliasTarget {
    uint32_t dev;  // the kernel's dev_t (major << 20 | minor)
    uint64_t ino;
    bool dir;
    std::string path;
  };
  int SetAliasTargets(const std::vector<AliasTarget>& targets);
  // Enforcement (lib/enforce.h): the kill tables, replaced whole; `on` false clears them. -E2BIG past
  // the LNR_KILL_* sizes, -EINVAL for a path that is not absolute or a rule index out of range.
  struct KillPath {
    std::string path;
    bool exact;
    uint32_t rule;
  };
  struct KillRule {
    uint8_t types;  // bit (type id - LNR_EVT_OPEN) per open type
    uint8_t access;  // bit 0 read, bit 1 write
    uint32_t exempt;  // mask over names
    uint64_t intervalNs;  // 0: no rate limit
    uint64_t toleranceNs;
  };
  struct KillName {
    std::string name;  // at most LNR_COMM_LEN - 1 bytes
    bool prefix;  // compare only the name's bytes (else the whole zero-padded comm)
  };
  int SetKillTables(bool on, const std::vector<KillPath>& paths, const std::vector<KillRule>& rules,
                    const std::vector<KillName>& names, uint32_t protectedMask);
  // Per-rule kernel decisions since load: killed, refused (a safeguard), limited (rate), failed.
  struct KillCounts {
    uint64_t killed[LNR_KILL_RULE_MAX];
    uint64_t refused[LNR_KILL_RULE_MAX];
    uint64_t limited[LNR_KILL_RULE_MAX];
    uint64_t failed[LNR_KILL_RULE_MAX];
  };
  bool ReadKillCounts(KillCounts* out) const;
  int SetSelf(uint32_t tgid, bool add);
  void SetExecEnvCapture(bool on);
  // Records ask the kernel to wake the ring's waiters (the polled reader parked on an idle ring).
  void SetReaderParked(bool on);
  // Whether the caller's side of clone-family syscalls is shipped (the child's always is).
  void SetCloneCallerEvents(bool on);
  int TrackFd(uint32_t tgid, uint32_t fd, bool add);
  // Copies whole records into buf; stops once less than one maximal record would still fit.
  DrainResult Drain(uint8_t* buf, size_t cap);
  int EpollFd() const;
  // Bytes written to the ring and not consumed yet: safe from any thread (reads the ring's
  // producer and consumer positions through a read-only mapping of their pages).
  uint64_t QueuedBytes() const;
  // Blocks up to timeoutMs for a ring wakeup (worker threads). 1 = woken, 0 = timeout, <0 = -errno.
  // Under NO_WAKEUP data can be queued without a wakeup: always Drain afterwards.
  int Wait(int timeoutMs);
  bool ReadCounters(CounterTotals* out) const;
  void Close();
  bool attached() const { return !links_.empty(); }
  bool enterHookAttached() const { return enterLink_ != nullptr; }
  bool adaptiveWakeup() const { return adaptiveWakeup_; }

 private:
  ProbeCore() = default;
  lanner_probe* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  std::vector<bpf_link*> links_;
  // The names in the kernel's filter_comms map, so a new set can replace them.
  std::vector<std::array<char, LNR_COMM_LEN>> filterComms_;
  // The keys in the kernel's alias_targets map, so a new set can replace them.
  std::vector<lnr_alias_key> aliasKeys_;
  // sys_enter runs on every syscall, so it is attached only while a type that uses it is wanted.
  bpf_link* enterLink_ = nullptr;
  bool enterHooks_ = true;
  bool adaptiveWakeup_ = false;
  bool enterWanted_ = true;
  int SyncEnterHook();
  int ncpus_ = 1;
  DrainState drain_;
  void* consumerPage_ = nullptr;
  void* producerPage_ = nullptr;
  size_t pageSize_ = 0;
};

// CLOCK_REALTIME and CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) read back to back.
void ReadClocks(int64_t* realtimeNs, int64_t* boottimeNs);

}  // namespace lanner

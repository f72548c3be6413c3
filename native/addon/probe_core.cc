#include "probe_core.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>

#include "probe.skel.h"
#include "syscalls.h"

namespace lanner {
namespace {

// libbpf logs through one global callback; capture it while a probe is being opened so a failed
// load can hand the verifier log to the caller. Outside of Open, warnings go to stderr.
std::mutex gLogMutex;
std::string* gLogSink = nullptr;
constexpr size_t kMaxLog = 256 * 1024;

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  char line[4096];
  vsnprintf(line, sizeof line, fmt, args);
  if (gLogSink != nullptr) {
    if (gLogSink->size() < kMaxLog) gLogSink->append(line);
    return 0;
  }
  if (level == LIBBPF_WARN) fprintf(stderr, "lanner probe: %s", line);
  return 0;
}

const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case E2BIG: return "E2BIG";
    case EBUSY: return "EBUSY";
    case ENOSPC: return "ENOSPC";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EIO";
  }
}

uint64_t EffectiveCaps() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

// Keeps the tail of libbpf's log: the verifier's verdict is at the end.
std::string TailOf(const std::string& log, size_t max) {
  return log.size() <= max ? log : "...\n" + log.substr(log.size() - max);
}

int OnSample(void* raw, void* data, size_t size) {
  auto* ctx = static_cast<DrainState*>(raw);
  // Every record fits: Drain stops while at least LNR_MAX_RECORD bytes are free.
  if (size > ctx->cap - ctx->used) {
    ctx->full = true;
    return -ENOSPC;
  }
  memcpy(ctx->buf + ctx->used, data, size);
  ctx->used += (size + 7) & ~size_t{7};
  ctx->count++;
  // libbpf 1.1's consume loops while data keeps arriving; a negative return stops it and this
  // sample (already copied) still counts as consumed.
  if (ctx->cap - ctx->used < LNR_MAX_RECORD) {
    ctx->full = true;
    return -ENOSPC;
  }
  return 0;
}

}  // namespace

void ReadClocks(int64_t* realtimeNs, int64_t* boottimeNs) {
  timespec rt{}, bt{}, rt2{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  clock_gettime(CLOCK_REALTIME, &rt2);
  const int64_t r1 = rt.tv_sec * 1000000000LL + rt.tv_nsec;
  const int64_t r2 = rt2.tv_sec * 1000000000LL + rt2.tv_nsec;
  *realtimeNs = r1 + (r2 - r1) / 2;
  *boottimeNs = bt.tv_sec * 1000000000LL + bt.tv_nsec;
}

std::unique_ptr<ProbeCore> ProbeCore::Open(const ProbeOptions& opts, ProbeError* error) {
  constexpr uint64_t kNeeded = (1ULL << CAP_BPF) | (1ULL << CAP_PERFMON);
  const uint64_t caps = EffectiveCaps();
  if ((caps & kNeeded) != kNeeded && (caps & (1ULL << CAP_SYS_ADMIN)) == 0) {
    *error = {"EPERM", EPERM,
              "loading the probe needs CAP_BPF and CAP_PERFMON (or root); this process has CapEff=0x" +
                  [&] { char b[32]; snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(caps)); return std::string(b); }(),
              ""};
    return nullptr;
  }
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    *error = {"ENOBTF", ENOENT, "kernel BTF (/sys/kernel/btf/vmlinux) is missing: the CO-RE probe needs CONFIG_DEBUG_INFO_BTF", ""};
    return nullptr;
  }
  // Only matters before 5.11 (memcg accounting); harmless after.
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_MEMLOCK, &unlimited);

  std::unique_ptr<ProbeCore> core(new ProbeCore());
  std::string log;
  std::lock_guard<std::mutex> lock(gLogMutex);
  libbpf_set_print(LibbpfPrint);
  gLogSink = &log;
  struct SinkReset {
    ~SinkReset() { gLogSink = nullptr; }
  } sinkReset;

  auto fail = [&](const char* what, int err) {
    err = err < 0 ? -err : err;
    const bool verifier = strstr(what, "load") != nullptr && log.find("BEGIN PROG LOAD LOG") != std::string::npos;
    *error = {verifier ? "EVERIFIER" : ErrnoName(err), err,
              std::string(what) + ": " + strerror(err) +
                  (verifier ? " (the verifier rejected a program; see verifierLog)" : ""),
              TailOf(log, 64 * 1024)};
    return nullptr;
  };

  core->skel_ = lanner_probe__open();
  if (core->skel_ == nullptr) return fail("opening the BPF skeleton", errno);
  lanner_probe* s = core->skel_;

  core->ncpus_ = libbpf_num_possible_cpus();
  if (core->ncpus_ <= 0) return fail("counting possible CPUs", core->ncpus_);
  s->rodata->cfg_max_str = opts.maxStringBytes > LNR_MAX_STR ? LNR_MAX_STR : opts.maxStringBytes;
  s->rodata->cfg_max_argv = opts.maxArgvBytes > LNR_MAX_ARGV ? LNR_MAX_ARGV : opts.maxArgvBytes;
  // argv and env share one LNR_MAX_ARGV budget, so an exec record always fits LNR_MAX_RECORD.
  const uint32_t envRoom = LNR_MAX_ARGV - s->rodata->cfg_max_argv;
  s->rodata->cfg_max_env = opts.maxEnvBytes > envRoom ? envRoom : opts.maxEnvBytes;
  s->rodata->cfg_drop_failed = opts.dropFailed;
  s->rodata->cfg_close_tracked_only = opts.closeTrackedOnly;
  s->rodata->cfg_adaptive_wakeup = opts.adaptiveWakeup;
  s->rodata->cfg_enter_hooks = opts.enterHooks;

  // libbpf rounds the ring up to a power-of-two number of pages; compute marks from the real size.
  uint64_t ring = 4096;
  while (ring < opts.ringBytes) ring <<= 1;
  int err = bpf_map__set_max_entries(s->maps.events, static_cast<uint32_t>(ring));
  if (err) return fail("sizing the ring buffer", err);
  s->rodata->cfg_wakeup_bytes = static_cast<uint64_t>(static_cast<double>(ring) * opts.wakeupFraction);
  s->rodata->cfg_pressure_bytes =
      opts.pressureFraction > 0 && opts.pressureFraction < 1 ? static_cast<uint64_t>(static_cast<double>(ring) * opts.pressureFraction) : 0;
  err = bpf_map__set_max_entries(s->maps.scratch, static_cast<uint32_t>(core->ncpus_));
  if (err) return fail("sizing the scratch map", err);
  core->enterHooks_ = opts.enterHooks;
  core->adaptiveWakeup_ = opts.adaptiveWakeup;
  if (!opts.enterHooks) bpf_program__set_autoload(s->progs.lnr_sys_enter, false);

  {
    // The verifier gives up with EAGAIN when a signal is pending for the loading thread, and the
    // dispatcher takes it seconds to verify: a profiler's SIGPROF (node --cpu-prof samples every
    // millisecond) made every one of libbpf's retries fail. Asynchronous signals wait until the
    // load is done; faults stay deliverable.
    sigset_t all, saved;
    sigfillset(&all);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) sigdelset(&all, sig);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    err = lanner_probe__load(s);
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  }
  if (err) return fail("loading the BPF programs", err);

  for (uint32_t tgid : opts.selfTgids) {
    const int rc = core->SetSelf(tgid, true);
    if (rc != 0) return fail("registering self tgids (at most 8)", rc);
  }
  core->ring_ = ring_buffer__new(bpf_map__fd(s->maps.events), OnSample, &core->drain_, nullptr);
  if (core->ring_ == nullptr) return fail("creating the ring buffer reader", errno);
  // The ring's first page holds the consumer position, the second the producer's.
  core->pageSize_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const int ringFd = bpf_map__fd(s->maps.events);
  void* cons = mmap(nullptr, core->pageSize_, PROT_READ, MAP_SHARED, ringFd, 0);
  if (cons == MAP_FAILED) return fail("mapping the ring's consumer page", errno);
  core->consumerPage_ = cons;
  void* prod = mmap(nullptr, core->pageSize_, PROT_READ, MAP_SHARED, ringFd, static_cast<off_t>(core->pageSize_));
  if (prod == MAP_FAILED) return fail("mapping the ring's producer page", errno);
  core->producerPage_ = prod;
  return core;
}

bool ProbeCore::Attach(ProbeError* error) {
  if (!links_.empty()) return true;
  bpf_program* progs[] = {skel_->progs.lnr_sys_exit, skel_->progs.lnr_proc_exit};
  for (bpf_program* prog : progs) {
    bpf_link* link = bpf_program__attach(prog);
    if (link == nullptr) {
      const int err = errno;
      for (bpf_link* l : links_) bpf_link__destroy(l);
      links_.clear();
      *error = {ErrnoName(err), err, std::string("attaching ") + bpf_program__name(prog) + ": " + strerror(err), ""};
      return false;
    }
    links_.push_back(link);
  }
  const int rc = SyncEnterHook();
  if (rc != 0) {
    *error = {ErrnoName(-rc), -rc, std::string("attaching lnr_sys_enter: ") + strerror(-rc), ""};
    return false;
  }
  return true;
}

int ProbeCore::SyncEnterHook() {
  const bool want = enterHooks_ && enterWanted_ && !links_.empty();
  if (want && enterLink_ == nullptr) {
    enterLink_ = bpf_program__attach(skel_->progs.lnr_sys_enter);
    if (enterLink_ == nullptr) return -errno;
  } else if (!want && enterLink_ != nullptr) {
    bpf_link__destroy(enterLink_);
    enterLink_ = nullptr;
  }
  return 0;
}

int ProbeCore::SetInterestingTypes(const uint8_t* enabled, size_t count) {
  uint8_t table[kSyscallTableSize] = {};
  for (const SyscallMapping& m : kSyscallMap) {
    if (m.type < count && enabled[m.type] != 0 && m.nr < LNR_IA32_BASE) table[m.nr] = static_cast<uint8_t>(m.type);
  }
  for (size_t i = 0; i < kSyscallMapIa32Size; i++) {
    const SyscallMapping& m = kSyscallMapIa32[i];
    if (m.type < count && enabled[m.type] != 0 && static_cast<uint32_t>(LNR_IA32_BASE + m.nr) < kSyscallTableSize) table[LNR_IA32_BASE + m.nr] = static_cast<uint8_t>(m.type);
  }
  const int fd = bpf_map__fd(skel_->maps.interesting);
  for (uint32_t nr = 0; nr < kSyscallTableSize; nr++) {
    if (bpf_map_update_elem(fd, &nr, &table[nr], BPF_ANY) != 0) return -errno;
  }
  auto on = [&](int type) { return static_cast<size_t>(type) < count && enabled[type] != 0; };
  enterWanted_ = on(LNR_EVT_OPEN) || on(LNR_EVT_OPENAT) || on(LNR_EVT_OPENAT2) || on(LNR_EVT_CREAT) || on(LNR_EVT_CONNECT);
  return SyncEnterHook();
}

int ProbeCore::SetTrackedFdTypes(const uint8_t* enabled, size_t count) {
  const int fd = bpf_map__fd(skel_->maps.track_types);
  for (uint32_t type = 0; type < LNR_EVT_COUNT; type++) {
    const uint8_t on = type < count && enabled[type] != 0 ? 1 : 0;
    if (bpf_map_update_elem(fd, &type, &on, BPF_ANY) != 0) return -errno;
  }
  return 0;
}

void ProbeCore::SetCloneCallerEvents(bool on) {
  *static_cast<volatile uint32_t*>(&skel_->bss->clone_caller_wanted) = on ? 1 : 0;
}

void ProbeCore::SetReaderParked(bool on) {
  if (skel_ != nullptr) *static_cast<volatile uint32_t*>(&skel_->bss->reader_parked) = on ? 1 : 0;
}

void ProbeCore::SetExecEnvCapture(bool on) {
  // A plain .bss word: the exec path reads it once per exec, a stale read only misses one env.
  *static_cast<volatile uint32_t*>(&skel_->bss->exec_env_wanted) = on ? 1 : 0;
}

int ProbeCore::SetPathFilters(const PathFilterSpec& open, const PathFilterSpec& change) {
  size_t prefixes = 0, suffixes = 0, needles = 0;
  for (const PathFilterSpec* f : {&open, &change}) {
    if (!f->on) continue;
    for (const PathAtom& a : f->atoms) {
      if (a.text.empty() || a.text.find('\0') != std::string::npos) return -EINVAL;
      if (a.match == kMatchContains) {
        if (f == &open && !a.writeOnly) return -EINVAL;  // reads are too many for a substring search
        if (a.text.size() > LNR_PATH_NEEDLE_LEN) return -E2BIG;
        needles++;
      } else if (a.match == kMatchSuffix) {
        if (a.text.size() > LNR_PATH_SUFFIX_LEN) return -E2BIG;
        suffixes++;
      } else {
        if (a.text[0] != '/' || a.match > kMatchSuffix) return -EINVAL;
        if (a.text.size() > LNR_PATH_PREFIX_LEN) return -E2BIG;
        prefixes++;
      }
    }
    for (const std::string& c : f->comms) {
      if (c.empty() || c.find('\0') != std::string::npos) return -EINVAL;
      if (c.size() >= LNR_COMM_LEN) return -E2BIG;
    }
    for (uint32_t type : f->types)
      if (type >= LNR_TYPE_SLOTS) return -EINVAL;
    if (f->modeMask > 07777) return -EINVAL;
  }
  std::set<std::string> comms;
  for (const PathFilterSpec* f : {&open, &change})
    if (f->on) comms.insert(f->comms.begin(), f->comms.end());
  if (prefixes > LNR_PATH_PREFIX_MAX || suffixes > LNR_PATH_SUFFIX_MAX || needles > LNR_PATH_NEEDLE_MAX || comms.size() > LNR_FILTER_COMM_MAX) return -E2BIG;

  // The BPF side reads the switches first: turn both filters off so entries are never read
  // half-written (meanwhile every call ships, which is more, never less).
  volatile uint32_t* openOn = &skel_->bss->open_filter_on;
  volatile uint32_t* changeOn = &skel_->bss->change_filter_on;
  *openOn = 0;
  *changeOn = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (!open.on && !change.on) return 0;

  // Each array in three ranges: atoms for any open, then for opens that can write, then for path
  // changes (the BPF side compares only the ranges a call can use).
  std::vector<const PathAtom*> prefixOrder, suffixOrder;
  uint32_t ranges[2][3] = {};  // [prefix|suffix][end of open-any, open-write, change]
  auto take = [&](const PathFilterSpec& f, bool pick(const PathAtom&)) {
    if (!f.on) return;
    for (const PathAtom& a : f.atoms)
      if (pick(a) && a.match != kMatchContains) (a.match == kMatchSuffix ? suffixOrder : prefixOrder).push_back(&a);
  };
  take(open, [](const PathAtom& a) { return !a.writeOnly; });
  ranges[0][0] = static_cast<uint32_t>(prefixOrder.size());
  ranges[1][0] = static_cast<uint32_t>(suffixOrder.size());
  take(open, [](const PathAtom& a) { return a.writeOnly; });
  ranges[0][1] = static_cast<uint32_t>(prefixOrder.size());
  ranges[1][1] = static_cast<uint32_t>(suffixOrder.size());
  take(change, [](const PathAtom&) { return true; });
  ranges[0][2] = static_cast<uint32_t>(prefixOrder.size());
  ranges[1][2] = static_cast<uint32_t>(suffixOrder.size());

  const int prefixFd = bpf_map__fd(skel_->maps.path_prefixes);
  for (uint32_t slot = 0; slot < prefixOrder.size(); slot++) {
    lnr_path_prefix entry{};
    entry.len = static_cast<uint32_t>(prefixOrder[slot]->text.size());
    entry.exact = prefixOrder[slot]->match == kMatchExact ? 1 : 0;
    memcpy(entry.bytes, prefixOrder[slot]->text.data(), entry.len);
    if (bpf_map_update_elem(prefixFd, &slot, &entry, BPF_ANY) != 0) return -errno;
  }
  const int suffixFd = bpf_map__fd(skel_->maps.path_suffixes);
  for (uint32_t slot = 0; slot < suffixOrder.size(); slot++) {
    lnr_path_suffix entry{};
    entry.len = static_cast<uint32_t>(suffixOrder[slot]->text.size());
    memcpy(entry.bytes, suffixOrder[slot]->text.data(), entry.len);
    if (bpf_map_update_elem(suffixFd, &slot, &entry, BPF_ANY) != 0) return -errno;
  }
  // Substrings: the open filter's (writes only) first, then the change filter's.
  const int needleFd = bpf_map__fd(skel_->maps.path_needles);
  uint32_t needleSlot = 0, needleOpenEnd = 0;
  for (const PathFilterSpec* f : {&open, &change}) {
    if (!f->on) continue;
    for (const PathAtom& a : f->atoms) {
      if (a.match != kMatchContains) continue;
      lnr_path_suffix entry{};
      entry.len = static_cast<uint32_t>(a.text.size());
      memcpy(entry.bytes, a.text.data(), entry.len);
      if (bpf_map_update_elem(needleFd, &needleSlot, &entry, BPF_ANY) != 0) return -errno;
      needleSlot++;
    }
    if (f == &open) needleOpenEnd = needleSlot;
  }
  // Names: replace the whole set (the previous one is ours to remember; the map has no clear).
  const int commFd = bpf_map__fd(skel_->maps.filter_comms);
  for (const std::array<char, LNR_COMM_LEN>& key : filterComms_) bpf_map_delete_elem(commFd, key.data());
  filterComms_.clear();
  const uint8_t one = 1;
  for (const std::string& c : comms) {
    std::array<char, LNR_COMM_LEN> key{};
    memcpy(key.data(), c.data(), c.size());
    if (bpf_map_update_elem(commFd, key.data(), &one, BPF_ANY) != 0) return -errno;
    filterComms_.push_back(key);
  }
  auto* bss = skel_->bss;
  bss->prefix_open_any = ranges[0][0];
  bss->prefix_open_end = ranges[0][1];
  bss->prefix_change_end = ranges[0][2];
  bss->suffix_open_any = ranges[1][0];
  bss->suffix_open_end = ranges[1][1];
  bss->suffix_change_end = ranges[1][2];
  bss->filter_comm_count = static_cast<uint32_t>(comms.size());
  bss->needle_open_end = needleOpenEnd;
  bss->needle_change_end = needleSlot;
  bss->change_mode_mask = change.on ? change.modeMask : 0;
  for (uint32_t& word : bss->change_filter_types) word = 0;
  if (change.on)
    for (uint32_t type : change.types) bss->change_filter_types[type / 32] |= 1u << (type % 32);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (open.on) *openOn = 1;
  if (change.on) *changeOn = 1;
  return 0;
}

int ProbeCore::SetAliasTargets(const std::vector<AliasTarget>& targets) {
  if (targets.size() > LNR_ALIAS_MAX) return -E2BIG;
  for (const AliasTarget& a : targets) {
    if (a.path.empty() || a.path[0] != '/' || a.path.find('\0') != std::string::npos) return -EINVAL;
    if (a.path.size() >= LNR_ALIAS_PATH_LEN) return -E2BIG;
  }
  // Counts first: the BPF side skips the lookups at 0, so while the map is rewritten an open is at
  // worst reported under the name it was opened by, never under a stale target's.
  skel_->bss->alias_count = 0;
  skel_->bss->alias_dirs = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  const int fd = bpf_map__fd(skel_->maps.alias_targets);
  for (const lnr_alias_key& key : aliasKeys_) bpf_map_delete_elem(fd, &key);
  aliasKeys_.clear();
  uint32_t dirs = 0;
  for (const AliasTarget& a : targets) {
    lnr_alias_key key{};
    key.ino = a.ino;
    key.dev = a.dev;
    lnr_alias_target value{};
    value.dir = a.dir ? 1 : 0;
    value.len = static_cast<uint32_t>(a.path.size());
    memcpy(value.path, a.path.data(), a.path.size());
    if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0) return -errno;
    aliasKeys_.push_back(key);
    if (a.dir) dirs++;
  }
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  skel_->bss->alias_dirs = dirs;
  skel_->bss->alias_count = static_cast<uint32_t>(aliasKeys_.size());
  return 0;
}

int ProbeCore::SetKillTables(bool on, const std::vector<KillPath>& paths, const std::vector<KillRule>& rules,
                             const std::vector<KillName>& names, uint32_t protectedMask) {
  if (paths.size() > LNR_KILL_PATH_MAX || rules.size() > LNR_KILL_RULE_MAX || names.size() > LNR_KILL_NAME_MAX) return -E2BIG;
  for (const KillPath& p : paths) {
    if (p.path.empty() || p.path[0] != '/' || p.path.find('\0') != std::string::npos || p.rule >= rules.size()) return -EINVAL;
    if (p.path.size() > LNR_KILL_PATH_LEN) return -E2BIG;
  }
  for (const KillName& n : names) {
    if (n.name.empty() || n.name.find('\0') != std::string::npos) return -EINVAL;
    if (n.name.size() >= LNR_COMM_LEN) return -E2BIG;
  }
  auto* bss = skel_->bss;
  // Off first: the BPF side reads the switch before any table, so a half-written table is never used.
  *static_cast<volatile uint32_t*>(&bss->kill_on) = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (!on) return 0;
  for (size_t i = 0; i < paths.size(); i++) {
    uint8_t bytes[LNR_KILL_PATH_LEN] = {};
    memcpy(bytes, paths[i].path.data(), paths[i].path.size());
    memcpy(const_cast<uint64_t*>(reinterpret_cast<volatile uint64_t*>(bss->kill_path_words[i])), bytes, sizeof bytes);
    bss->kill_path_len[i] = static_cast<uint32_t>(paths[i].path.size());
    bss->kill_path_exact[i] = paths[i].exact ? 1 : 0;
    bss->kill_path_rule[i] = static_cast<uint8_t>(paths[i].rule);
  }
  for (size_t r = 0; r < rules.size(); r++) {
    bss->kill_rule_types[r] = rules[r].types;
    bss->kill_rule_access[r] = rules[r].access;
    bss->kill_rule_exempt[r] = rules[r].exempt;
    bss->kill_rule_interval_ns[r] = rules[r].intervalNs;
    bss->kill_rule_tolerance_ns[r] = rules[r].toleranceNs;
    bss->kill_rule_tat[r] = 0;
  }
  for (size_t i = 0; i < names.size(); i++) {
    uint8_t bytes[16] = {};
    memcpy(bytes, names[i].name.data(), names[i].name.size());
    memcpy(const_cast<uint64_t*>(reinterpret_cast<volatile uint64_t*>(bss->kill_name_words[i])), bytes, sizeof bytes);
    bss->kill_name_len[i] = static_cast<uint8_t>(names[i].prefix ? names[i].name.size() : LNR_COMM_LEN);
  }
  for (size_t i = names.size(); i < LNR_KILL_NAME_MAX; i++) bss->kill_name_len[i] = 0;
  bss->kill_protected = protectedMask;
  bss->kill_path_count = static_cast<uint32_t>(paths.size());
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  *static_cast<volatile uint32_t*>(&bss->kill_on) = 1;
  return 0;
}

bool ProbeCore::ReadKillCounts(KillCounts* out) const {
  if (skel_ == nullptr) return false;
  const auto* bss = skel_->bss;
  for (size_t r = 0; r < LNR_KILL_RULE_MAX; r++) {
    out->killed[r] = bss->kill_rule_killed[r];
    out->refused[r] = bss->kill_rule_refused[r];
    out->limited[r] = bss->kill_rule_limited[r];
    out->failed[r] = bss->kill_rule_failed[r];
  }
  return true;
}

int ProbeCore::SetSelf(uint32_t tgid, bool add) {
  // The BPF side scans this .bss array; writes through the mmap'ed skeleton are seen at once.
  volatile uint32_t* slots = skel_->bss->self_tgids;
  constexpr size_t kSlots = sizeof(skel_->bss->self_tgids) / sizeof(skel_->bss->self_tgids[0]);
  if (tgid == 0) return -EINVAL;
  for (size_t i = 0; i < kSlots; i++) {
    if (slots[i] == tgid) {
      if (!add) slots[i] = 0;
      return 0;
    }
  }
  if (!add) return 0;
  for (size_t i = 0; i < kSlots; i++) {
    if (slots[i] == 0) {
      slots[i] = tgid;
      return 0;
    }
  }
  return -ENOSPC;
}

int ProbeCore::TrackFd(uint32_t tgid, uint32_t fd, bool add) {
  uint64_t key = (static_cast<uint64_t>(tgid) << 32) | fd;
  uint8_t one = 1;
  const int rc = add ? bpf_map__update_elem(skel_->maps.tracked_fds, &key, sizeof key, &one, sizeof one, BPF_ANY)
                     : bpf_map__delete_elem(skel_->maps.tracked_fds, &key, sizeof key, 0);
  return rc == -ENOENT ? 0 : rc;
}

DrainResult ProbeCore::Drain(uint8_t* buf, size_t cap) {
  DrainResult result;
  if (ring_ == nullptr || cap < 2 * LNR_MAX_RECORD) {
    result.err = ring_ == nullptr ? -EBADF : -EINVAL;
    return result;
  }
  // The ring was created with a pointer to drain_ as its context: refill it for this call.
  drain_ = DrainState{buf, cap, 0, 0, false};
  DrainState& ctx = drain_;
  const int rc = ring_buffer__consume(ring_);
  if (rc < 0 && !(rc == -ENOSPC && ctx.full)) result.err = rc;
  result.bytes = ctx.used;
  result.count = ctx.count;
  result.more = ctx.full;
  return result;
}

int ProbeCore::Wait(int timeoutMs) {
  if (ring_ == nullptr) return -EBADF;
  epoll_event ev{};
  const int n = epoll_wait(ring_buffer__epoll_fd(ring_), &ev, 1, timeoutMs);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  return n > 0 ? 1 : 0;
}

int ProbeCore::EpollFd() const { return ring_ == nullptr ? -1 : ring_buffer__epoll_fd(ring_); }

uint64_t ProbeCore::QueuedBytes() const {
  if (consumerPage_ == nullptr || producerPage_ == nullptr) return 0;
  const uint64_t prod = __atomic_load_n(static_cast<const uint64_t*>(producerPage_), __ATOMIC_ACQUIRE);
  const uint64_t cons = __atomic_load_n(static_cast<const uint64_t*>(consumerPage_), __ATOMIC_ACQUIRE);
  return prod > cons ? prod - cons : 0;
}

bool ProbeCore::ReadCounters(CounterTotals* out) const {
  if (skel_ == nullptr) return false;
  const size_t stride = (sizeof(lnr_counters) + 7) & ~size_t{7};
  std::vector<uint8_t> values(stride * static_cast<size_t>(ncpus_));
  uint32_t zero = 0;
  if (bpf_map__lookup_elem(skel_->maps.counters, &zero, sizeof zero, values.data(), values.size(), 0) != 0) return false;
  *out = CounterTotals{};
  for (int cpu = 0; cpu < ncpus_; cpu++) {
    lnr_counters c;
    memcpy(&c, values.data() + stride * static_cast<size_t>(cpu), sizeof c);
    out->seen += c.seen;
    out->emitted += c.emitted;
    out->dropFull += c.drop_full;
    out->dropBig += c.drop_big;
    out->dropOther += c.drop_other;
    out->stashMiss += c.stash_miss;
    out->filteredByPath += c.filtered_path;
    for (int t = 0; t < LNR_EVT_COUNT; t++) {
      out->seenByType[t] += c.seen_by_type[t];
      out->dropByType[t] += c.drop_by_type[t];
    }
  }
  return true;
}

void ProbeCore::Close() {
  if (consumerPage_ != nullptr) munmap(consumerPage_, pageSize_);
  if (producerPage_ != nullptr) munmap(producerPage_, pageSize_);
  consumerPage_ = producerPage_ = nullptr;
  if (enterLink_ != nullptr) bpf_link__destroy(enterLink_);
  enterLink_ = nullptr;
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
  if (ring_ != nullptr) ring_buffer__free(ring_);
  ring_ = nullptr;
  if (skel_ != nullptr) lanner_probe__destroy(skel_);
  skel_ = nullptr;
}

ProbeCore::~ProbeCore() { Close(); }

}  // namespace lanner

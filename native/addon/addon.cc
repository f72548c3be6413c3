// N-API surface of the probe: the Probe class, abi() and clocks(). Events never cross N-API one by
// one: a drain copies whole records into a JS-owned ArrayBuffer and JS decodes them with typed
// arrays (see src/probe/layout.ts). When and on which thread drains happen is ring_delivery.h;
// the probe's lifecycle on libbpf is probe_core.h.
#include <napi.h>

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "js_errors.h"
#include "probe_core.h"
#include "ring_delivery.h"

namespace lanner {
namespace {

uint32_t OptU32(const Napi::Object& o, const char* key, uint32_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def;
}
double OptF64(const Napi::Object& o, const char* key, double def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
}
bool OptBool(const Napi::Object& o, const char* key, bool def) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : def;
}

class Probe : public Napi::ObjectWrap<Probe> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Probe",
                       {
                           InstanceMethod<&Probe::Attach>("attach"),
                           InstanceMethod<&Probe::SetInterestingTypes>("setInterestingTypes"),
                           InstanceMethod<&Probe::SetTrackedFdTypes>("setTrackedFdTypes"),
                           InstanceMethod<&Probe::SetPathFilters>("setPathFilters"),
                           InstanceMethod<&Probe::SetAliasTargets>("setAliasTargets"),
                           InstanceMethod<&Probe::SetKillTables>("setKillTables"),
                           InstanceMethod<&Probe::KillCounts>("killCounts"),
                           InstanceMethod<&Probe::SetSelf>("setSelf"),
                           InstanceMethod<&Probe::SetExecEnvCapture>("setExecEnvCapture"),
                           InstanceMethod<&Probe::SetGatherTrickles>("setGatherTrickles"),
                           InstanceMethod<&Probe::SetCloneCallerEvents>("setCloneCallerEvents"),
                           InstanceMethod<&Probe::TrackFd>("trackFd"),
                           InstanceMethod<&Probe::Read>("read"),
                           InstanceMethod<&Probe::Wait>("wait"),
                           InstanceMethod<&Probe::Start>("start"),
                           InstanceMethod<&Probe::Stop>("stop"),
                           InstanceMethod<&Probe::Stats>("stats"),
                           InstanceMethod<&Probe::Close>("close"),
                       });
  }

  explicit Probe(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Probe>(info) {
    Napi::Env env = info.Env();
    ProbeOptions opts;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      opts.ringBytes = static_cast<uint64_t>(OptF64(o, "ringBytes", static_cast<double>(opts.ringBytes)));
      opts.maxStringBytes = OptU32(o, "maxStringBytes", opts.maxStringBytes);
      opts.maxArgvBytes = OptU32(o, "maxArgvBytes", opts.maxArgvBytes);
      opts.maxEnvBytes = OptU32(o, "maxEnvBytes", opts.maxEnvBytes);
      opts.dropFailed = OptBool(o, "dropFailed", opts.dropFailed);
      opts.closeTrackedOnly = OptBool(o, "closeTrackedOnly", opts.closeTrackedOnly);
      opts.enterHooks = OptBool(o, "enterHooks", opts.enterHooks);
      opts.wakeupFraction = OptF64(o, "wakeupFraction", opts.wakeupFraction);
      opts.adaptiveWakeup = OptBool(o, "adaptiveWakeup", opts.adaptiveWakeup);
      opts.pressureFraction = OptF64(o, "pressureFraction", opts.pressureFraction);
      Napi::Value self = o.Get("selfTgids");
      if (self.IsArray()) {
        Napi::Array arr = self.As<Napi::Array>();
        for (uint32_t i = 0; i < arr.Length(); i++) opts.selfTgids.push_back(arr.Get(i).As<Napi::Number>().Uint32Value());
      }
    }
    ProbeError error;
    core_ = ProbeCore::Open(opts, &error);
    if (!core_) ThrowProbeError(env, error);
  }

  ~Probe() override { Shutdown(); }

 private:
  Napi::Value Attach(const Napi::CallbackInfo& info) {
    if (!core_) return ThrowErrno(info.Env(), "attach on a closed probe", -EBADF);
    ProbeError error;
    if (!core_->Attach(&error)) return ThrowProbeError(info.Env(), error);
    return info.Env().Undefined();
  }

  // setInterestingTypes(Uint8Array indexed by event type id; non-zero = wanted)
  Napi::Value SetInterestingTypes(const Napi::CallbackInfo& info) {
    if (!core_) return ThrowErrno(info.Env(), "setInterestingTypes on a closed probe", -EBADF);
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(info.Env(), "setInterestingTypes expects a Uint8Array").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    Napi::Uint8Array mask = info[0].As<Napi::Uint8Array>();
    const int rc = core_->SetInterestingTypes(mask.Data(), mask.ElementLength());
    if (rc != 0) return ThrowErrno(info.Env(), "updating the interesting-syscall table", rc);
    return info.Env().Undefined();
  }

  // setTrackedFdTypes(Uint8Array indexed by event type id)
  Napi::Value SetTrackedFdTypes(const Napi::CallbackInfo& info) {
    if (!core_) return ThrowErrno(info.Env(), "setTrackedFdTypes on a closed probe", -EBADF);
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(info.Env(), "setTrackedFdTypes expects a Uint8Array").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    Napi::Uint8Array mask = info[0].As<Napi::Uint8Array>();
    const int rc = core_->SetTrackedFdTypes(mask.Data(), mask.ElementLength());
    if (rc != 0) return ThrowErrno(info.Env(), "updating the fd-tracking table", rc);
    return info.Env().Undefined();
  }

  // setPathFilters(open, change): each null (off) or {atoms: {text, match: 0 prefix | 1 exact |
  // 2 suffix | 3 contains (for opens: writeOnly only), writeOnly}[], comms: string[], types: number[], modeMask: number} (types and mode
  // bits: the change filter's). Replaces both filters in one update.
  Napi::Value SetPathFilters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return ThrowErrno(env, "setPathFilters on a closed probe", -EBADF);
    ProbeCore::PathFilterSpec open, change;
    if (!FilterOf(env, info[0], open) || !FilterOf(env, info[1], change)) return env.Undefined();
    const int rc = core_->SetPathFilters(open, change);
    if (rc != 0) return ThrowErrno(env, "updating the path filters", rc);
    return env.Undefined();
  }

  // One filter of setPathFilters; false after throwing a TypeError.
  static bool FilterOf(Napi::Env env, Napi::Value value, ProbeCore::PathFilterSpec& out) {
    if (value.IsUndefined() || value.IsNull()) return true;
    if (!value.IsObject()) {
      Napi::TypeError::New(env, "setPathFilters: a filter must be an object or null").ThrowAsJavaScriptException();
      return false;
    }
    Napi::Object f = value.As<Napi::Object>();
    out.on = true;
    Napi::Value atoms = f.Get("atoms");
    if (!atoms.IsArray()) {
      Napi::TypeError::New(env, "setPathFilters: atoms must be an array").ThrowAsJavaScriptException();
      return false;
    }
    Napi::Array arr = atoms.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsObject() || !v.As<Napi::Object>().Get("text").IsString()) {
        Napi::TypeError::New(env, "setPathFilters: an atom must be {text, match, writeOnly}").ThrowAsJavaScriptException();
        return false;
      }
      Napi::Object a = v.As<Napi::Object>();
      ProbeCore::PathAtom atom;
      atom.text = a.Get("text").As<Napi::String>().Utf8Value();
      atom.match = static_cast<uint8_t>(a.Get("match").ToNumber().Uint32Value());
      atom.writeOnly = a.Get("writeOnly").ToBoolean().Value();
      out.atoms.push_back(std::move(atom));
    }
    if (!StringsOf(env, f.Get("comms"), "comms", out.comms)) return false;
    Napi::Value types = f.Get("types");
    if (types.IsArray()) {
      Napi::Array t = types.As<Napi::Array>();
      for (uint32_t i = 0; i < t.Length(); i++) out.types.push_back(t.Get(i).ToNumber().Uint32Value());
    }
    Napi::Value mode = f.Get("modeMask");
    if (mode.IsNumber()) out.modeMask = mode.As<Napi::Number>().Uint32Value();
    return true;
  }

  // setAliasTargets(targets: {dev, ino, dir, path}[]): replaces the kernel's alias targets.
  Napi::Value SetAliasTargets(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return ThrowErrno(env, "setAliasTargets on a closed probe", -EBADF);
    if (info.Length() < 1 || !info[0].IsArray()) {
      Napi::TypeError::New(env, "setAliasTargets expects an array of {dev, ino, dir, path}").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array arr = info[0].As<Napi::Array>();
    std::vector<ProbeCore::AliasTarget> targets;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsObject()) {
        Napi::TypeError::New(env, "setAliasTargets: each target must be an object").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      Napi::Object o = v.As<Napi::Object>();
      Napi::Value dev = o.Get("dev"), ino = o.Get("ino"), path = o.Get("path");
      if (!dev.IsNumber() || !ino.IsNumber() || !path.IsString()) {
        Napi::TypeError::New(env, "setAliasTargets: dev and ino must be numbers, path a string").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      targets.push_back({dev.As<Napi::Number>().Uint32Value(), static_cast<uint64_t>(ino.As<Napi::Number>().DoubleValue()),
                         o.Get("dir").ToBoolean().Value(), path.As<Napi::String>().Utf8Value()});
    }
    const int rc = core_->SetAliasTargets(targets);
    if (rc != 0) return ThrowErrno(env, "updating the alias targets", rc);
    return env.Undefined();
  }

  // setKillTables({paths: {path, exact, rule}[], rules: {types, access, exempt, intervalNs,
  // toleranceNs}[], names: {name, prefix}[], protectedMask} | null): the enforcement tables
  // (lib/enforce.h), replaced whole; null turns kernel enforcement off.
  Napi::Value SetKillTables(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return ThrowErrno(env, "setKillTables on a closed probe", -EBADF);
    const bool on = info.Length() > 0 && info[0].IsObject();
    std::vector<ProbeCore::KillPath> paths;
    std::vector<ProbeCore::KillRule> rules;
    std::vector<ProbeCore::KillName> names;
    uint32_t protectedMask = 0;
    if (on) {
      Napi::Object o = info[0].As<Napi::Object>();
      Napi::Value p = o.Get("paths"), r = o.Get("rules"), n = o.Get("names");
      if (!p.IsArray() || !r.IsArray() || !n.IsArray()) {
        Napi::TypeError::New(env, "setKillTables expects {paths, rules, names, protectedMask}").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      auto num = [](Napi::Object x, const char* k) { return x.Get(k).ToNumber().DoubleValue(); };
      Napi::Array pa = p.As<Napi::Array>(), ra = r.As<Napi::Array>(), na = n.As<Napi::Array>();
      for (uint32_t i = 0; i < pa.Length(); i++) {
        Napi::Object x = pa.Get(i).ToObject();
        paths.push_back({x.Get("path").ToString().Utf8Value(), x.Get("exact").ToBoolean().Value(), static_cast<uint32_t>(num(x, "rule"))});
      }
      for (uint32_t i = 0; i < ra.Length(); i++) {
        Napi::Object x = ra.Get(i).ToObject();
        rules.push_back({static_cast<uint8_t>(num(x, "types")), static_cast<uint8_t>(num(x, "access")), static_cast<uint32_t>(num(x, "exempt")),
                         static_cast<uint64_t>(num(x, "intervalNs")), static_cast<uint64_t>(num(x, "toleranceNs"))});
      }
      for (uint32_t i = 0; i < na.Length(); i++) {
        Napi::Object x = na.Get(i).ToObject();
        names.push_back({x.Get("name").ToString().Utf8Value(), x.Get("prefix").ToBoolean().Value()});
      }
      protectedMask = static_cast<uint32_t>(num(o, "protectedMask"));
    }
    const int rc = core_->SetKillTables(on, paths, rules, names, protectedMask);
    if (rc != 0) return ThrowErrno(env, "updating the kill tables", rc);
    return env.Undefined();
  }

  // killCounts(): per kill-rule slot, the kernel's decisions since load.
  Napi::Value KillCounts(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ProbeCore::KillCounts k{};
    if (!core_ || !core_->ReadKillCounts(&k)) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    auto arr = [&](const uint64_t* v) {
      Napi::Array a = Napi::Array::New(env, LNR_KILL_RULE_MAX);
      for (uint32_t i = 0; i < LNR_KILL_RULE_MAX; i++) a.Set(i, static_cast<double>(v[i]));
      return a;
    };
    out.Set("killed", arr(k.killed));
    out.Set("refused", arr(k.refused));
    out.Set("limited", arr(k.limited));
    out.Set("failed", arr(k.failed));
    return out;
  }

  // An array of strings (undefined or null: none); false after throwing a TypeError.
  static bool StringsOf(Napi::Env env, Napi::Value value, const char* what, std::vector<std::string>& out) {
    if (value.IsUndefined() || value.IsNull()) return true;
    if (!value.IsArray()) {
      Napi::TypeError::New(env, std::string("setPathFilters: ") + what + " must be an array of strings").ThrowAsJavaScriptException();
      return false;
    }
    Napi::Array arr = value.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsString()) {
        Napi::TypeError::New(env, std::string("setPathFilters: ") + what + " must be strings").ThrowAsJavaScriptException();
        return false;
      }
      out.push_back(v.As<Napi::String>().Utf8Value());
    }
    return true;
  }

  // setCloneCallerEvents(on): whether the caller's side of clone/clone3/fork/vfork is shipped.
  Napi::Value SetCloneCallerEvents(const Napi::CallbackInfo& info) {
    if (!core_) return ThrowErrno(info.Env(), "setCloneCallerEvents on a closed probe", -EBADF);
    core_->SetCloneCallerEvents(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  // setExecEnvCapture(on): whether successful execs carry their environment (up to maxEnvBytes).
  Napi::Value SetExecEnvCapture(const Napi::CallbackInfo& info) {
    if (!core_) return ThrowErrno(info.Env(), "setExecEnvCapture on a closed probe", -EBADF);
    core_->SetExecEnvCapture(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  // setGatherTrickles(on): whether a polled look may leave a trickle queued (start's maxLatencyMs).
  Napi::Value SetGatherTrickles(const Napi::CallbackInfo& info) {
    delivery_.SetGatherTrickles(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value SetSelf(const Napi::CallbackInfo& info) {
    if (!core_) return ThrowErrno(info.Env(), "setSelf on a closed probe", -EBADF);
    const int rc = core_->SetSelf(info[0].As<Napi::Number>().Uint32Value(), info[1].ToBoolean().Value());
    if (rc != 0) return ThrowErrno(info.Env(), "updating the self-exclusion map", rc);
    return info.Env().Undefined();
  }

  Napi::Value TrackFd(const Napi::CallbackInfo& info) {
    if (!core_) return ThrowErrno(info.Env(), "trackFd on a closed probe", -EBADF);
    const int rc = core_->TrackFd(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
                                  info[2].ToBoolean().Value());
    if (rc != 0) return ThrowErrno(info.Env(), "updating the tracked-fd map", rc);
    return info.Env().Undefined();
  }

  // read(ArrayBuffer) -> { bytes, count, more }: one non-blocking drain (for workers and tests).
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return ThrowErrno(env, "read on a closed probe", -EBADF);
    if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
      Napi::TypeError::New(env, "read expects an ArrayBuffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
    DrainResult r = core_->Drain(static_cast<uint8_t*>(ab.Data()), ab.ByteLength());
    if (r.err != 0) return ThrowErrno(env, "draining the ring buffer", r.err);
    if (r.count > 0) delivery_.CountBatch(r.count);
    Napi::Object out = Napi::Object::New(env);
    out.Set("bytes", Napi::Number::New(env, static_cast<double>(r.bytes)));
    out.Set("count", Napi::Number::New(env, r.count));
    out.Set("more", Napi::Boolean::New(env, r.more));
    return out;
  }

  // wait(timeoutMs) -> boolean: blocks (worker threads only) until the kernel forces a wakeup or
  // the timeout passes; call read() afterwards either way.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return ThrowErrno(env, "wait on a closed probe", -EBADF);
    if (delivery_.running()) return ThrowErrno(env, "wait while start() delivers on the main thread", -EBUSY);
    const int ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 10;
    const int rc = core_->Wait(ms);
    if (rc < 0) return ThrowErrno(env, "waiting for the ring buffer", rc);
    return Napi::Boolean::New(env, rc == 1);
  }

  // start(ArrayBuffer, onBatch(bytes, count, more), drainMs, maxBatchesPerWake, wakeupGapMs, maxLatencyMs, gatherMinRate)
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!core_) return ThrowErrno(env, "start on a closed probe", -EBADF);
    if (delivery_.running()) return env.Undefined();
    if (info.Length() < 2 || !info[0].IsArrayBuffer() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "start expects (ArrayBuffer, Function, drainMs?, maxBatchesPerWake?, wakeupGapMs?, maxLatencyMs?, gatherMinRate?)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
    if (ab.ByteLength() < 2 * LNR_MAX_RECORD) {
      Napi::RangeError::New(env, "batch buffer must hold at least two maximal records (64 KiB)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    DeliveryOptions opts;
    opts.drainMs = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 10;
    opts.maxBatchesPerWake = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 4;
    opts.wakeupGapMs = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;
    opts.maxLatencyMs = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().Uint32Value() : 0;
    opts.gatherMinRate = info.Length() > 6 && info[6].IsNumber() ? info[6].As<Napi::Number>().Uint32Value() : 0;
    if (!delivery_.Start(env, core_.get(), ab, info[1].As<Napi::Function>(), opts)) return env.Undefined();
    Ref();  // the wrapper must outlive the delivery's libuv handles and thread
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopHandles();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CounterTotals t;
    if (!core_ || !core_->ReadCounters(&t)) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    auto num = [&](uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
    out.Set("seen", num(t.seen));
    out.Set("emitted", num(t.emitted));
    out.Set("dropFull", num(t.dropFull));
    out.Set("dropBig", num(t.dropBig));
    out.Set("dropOther", num(t.dropOther));
    out.Set("stashMiss", num(t.stashMiss));
    out.Set("filteredByPath", num(t.filteredByPath));
    out.Set("batches", num(delivery_.batches()));
    out.Set("parks", num(delivery_.parks()));
    out.Set("parkWakeups", num(delivery_.parkWakeups()));
    out.Set("coalescedLooks", num(delivery_.coalescedLooks()));
    out.Set("delivered", num(delivery_.delivered()));
    Napi::Array seenBy = Napi::Array::New(env, LNR_EVT_COUNT), dropBy = Napi::Array::New(env, LNR_EVT_COUNT);
    for (uint32_t i = 0; i < LNR_EVT_COUNT; i++) {
      seenBy.Set(i, num(t.seenByType[i]));
      dropBy.Set(i, num(t.dropByType[i]));
    }
    out.Set("seenByType", seenBy);
    out.Set("dropByType", dropBy);
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  void StopHandles() {
    if (!delivery_.running()) return;
    delivery_.Stop();
    Unref();
  }

  void Shutdown() {
    StopHandles();
    if (core_) core_->Close();
    core_.reset();
  }

  std::unique_ptr<ProbeCore> core_;
  RingDelivery delivery_;  // after core_: stopped before the core goes
};

struct TypeName {
  const char* name;
  int id;
};
#define LNR_T(x) {#x, LNR_EVT_##x}
const TypeName kTypeNames[] = {
    LNR_T(UNKNOWN), LNR_T(EXECVE), LNR_T(EXECVEAT), LNR_T(CLONE), LNR_T(CLONE3), LNR_T(FORK), LNR_T(VFORK),
    LNR_T(PROCEXIT), LNR_T(OPEN), LNR_T(OPENAT), LNR_T(OPENAT2), LNR_T(CREAT), LNR_T(CLOSE), LNR_T(DUP),
    LNR_T(DUP2), LNR_T(DUP3), LNR_T(FCNTL), LNR_T(CHDIR), LNR_T(FCHDIR), LNR_T(SYMLINK), LNR_T(SYMLINKAT),
    LNR_T(LINK), LNR_T(LINKAT), LNR_T(UNLINK), LNR_T(UNLINKAT), LNR_T(RENAME), LNR_T(RENAMEAT), LNR_T(RENAMEAT2),
    LNR_T(MKDIR), LNR_T(MKDIRAT), LNR_T(RMDIR), LNR_T(CHMOD), LNR_T(FCHMOD), LNR_T(FCHMODAT), LNR_T(TRUNCATE),
    LNR_T(FTRUNCATE), LNR_T(MEMFD_CREATE), LNR_T(SOCKET), LNR_T(CONNECT), LNR_T(ACCEPT), LNR_T(ACCEPT4),
    LNR_T(BIND), LNR_T(LISTEN), LNR_T(SENDTO), LNR_T(SENDMSG), LNR_T(RECVFROM), LNR_T(RECVMSG), LNR_T(SETUID),
    LNR_T(SETGID), LNR_T(SETRESUID), LNR_T(SETRESGID), LNR_T(CAPSET), LNR_T(PRCTL), LNR_T(CHROOT),
    LNR_T(UNSHARE), LNR_T(SETNS), LNR_T(MOUNT), LNR_T(UMOUNT2), LNR_T(INIT_MODULE), LNR_T(FINIT_MODULE),
    LNR_T(BPF), LNR_T(USERFAULTFD), LNR_T(PTRACE), LNR_T(PROCESS_VM_WRITEV), LNR_T(KILL), LNR_T(DROP),
    LNR_T(CHOWN), LNR_T(LCHOWN), LNR_T(FCHOWN), LNR_T(FCHOWNAT), LNR_T(MPROTECT), LNR_T(MMAP), LNR_T(PIDFD_OPEN),
    LNR_T(PIDFD_GETFD), LNR_T(PROCESS_VM_READV), LNR_T(KEXEC_LOAD), LNR_T(KEXEC_FILE_LOAD), LNR_T(KEYCTL),
    LNR_T(FSOPEN), LNR_T(FSMOUNT), LNR_T(MOVE_MOUNT), LNR_T(OPEN_BY_HANDLE_AT), LNR_T(IO_URING_SETUP),
    LNR_T(IO_URING_ENTER), LNR_T(IO_URING_REGISTER), LNR_T(SETSID), LNR_T(SETPGID),
};
#undef LNR_T

// abi(): what the compiled probe believes the layout is; the TS decoder checks itself against it.
Napi::Value Abi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", LNR_ABI_VERSION);
  out.Set("headerSize", LNR_HDR_SIZE);
  out.Set("maxRecord", LNR_MAX_RECORD);
  out.Set("typeCount", static_cast<int>(LNR_EVT_COUNT));
  out.Set("pathPrefixMax", LNR_PATH_PREFIX_MAX);
  out.Set("pathPrefixLen", LNR_PATH_PREFIX_LEN);
  out.Set("pathSuffixMax", LNR_PATH_SUFFIX_MAX);
  out.Set("pathSuffixLen", LNR_PATH_SUFFIX_LEN);
  out.Set("pathNeedleMax", LNR_PATH_NEEDLE_MAX);
  out.Set("pathNeedleLen", LNR_PATH_NEEDLE_LEN);
  out.Set("filterCommMax", LNR_FILTER_COMM_MAX);
  out.Set("pathFilterWindow", LNR_PATH_FILTER_WINDOW);
  out.Set("aliasMax", LNR_ALIAS_MAX);
  out.Set("aliasPathLen", LNR_ALIAS_PATH_LEN);
  out.Set("killPathMax", LNR_KILL_PATH_MAX);
  out.Set("killPathLen", LNR_KILL_PATH_LEN);
  out.Set("killRuleMax", LNR_KILL_RULE_MAX);
  out.Set("killNameMax", LNR_KILL_NAME_MAX);
  Napi::Object types = Napi::Object::New(env);
  for (const TypeName& t : kTypeNames) {
    std::string name(t.name);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    types.Set(name, t.id);
  }
  out.Set("types", types);
  Napi::Object off = Napi::Object::New(env);
#define LNR_OFF(field, key) off.Set(key, static_cast<double>(offsetof(lnr_hdr, field)))
  LNR_OFF(ts_ns, "tsNs");
  LNR_OFF(size, "size");
  LNR_OFF(type, "type");
  LNR_OFF(flags, "flags");
  LNR_OFF(tid, "tid");
  LNR_OFF(tgid, "tgid");
  LNR_OFF(ptgid, "ptgid");
  LNR_OFF(cpu, "cpu");
  LNR_OFF(cgroup_id, "cgroupId");
  LNR_OFF(ret, "ret");
  LNR_OFF(uid, "uid");
  LNR_OFF(gid, "gid");
  LNR_OFF(euid, "euid");
  LNR_OFF(egid, "egid");
  LNR_OFF(loginuid, "loginuid");
  LNR_OFF(vpid, "vpid");
  LNR_OFF(pid_ns, "pidNs");
  LNR_OFF(mnt_ns, "mntNs");
  LNR_OFF(tty, "tty");
  LNR_OFF(exe_flags, "exeFlags");
  LNR_OFF(cap_eff, "capEff");
  LNR_OFF(cap_prm, "capPrm");
  LNR_OFF(args, "args");
  LNR_OFF(comm, "comm");
  LNR_OFF(desc, "desc");
#undef LNR_OFF
  out.Set("offsets", off);
  Napi::Object slots = Napi::Object::New(env);
  slots.Set("str0", static_cast<int>(LNR_SLOT_STR0));
  slots.Set("data", static_cast<int>(LNR_SLOT_DATA));
  slots.Set("str1", static_cast<int>(LNR_SLOT_STR1));
  slots.Set("localSockaddr", static_cast<int>(LNR_SLOT_LOCAL_SOCKADDR));
  slots.Set("sockaddr", static_cast<int>(LNR_SLOT_SOCKADDR));
  slots.Set("argv", static_cast<int>(LNR_SLOT_ARGV));
  slots.Set("exe", static_cast<int>(LNR_SLOT_EXE));
  slots.Set("cwd", static_cast<int>(LNR_SLOT_CWD));
  out.Set("slots", slots);
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("truncated", LNR_F_TRUNCATED);
  flags.Set("enterStash", LNR_F_ENTER_STASH);
  flags.Set("aliased", LNR_F_ALIASED);
  flags.Set("killed", LNR_F_KILLED);
  flags.Set("killHeld", LNR_F_KILL_HELD);
  flags.Set("killFailed", LNR_F_KILL_FAILED);
  flags.Set("argvTruncated", LNR_F_ARGV_TRUNC);
  flags.Set("fdChecked", LNR_F_FD_CHECKED);
  flags.Set("fdSocket", LNR_F_FD_SOCKET);
  out.Set("flags", flags);
  return out;
}

// clocks() -> { realtimeNs, boottimeNs } as BigInt, read back to back.
Napi::Value Clocks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t rt = 0, bt = 0;
  ReadClocks(&rt, &bt);
  Napi::Object out = Napi::Object::New(env);
  out.Set("realtimeNs", Napi::BigInt::New(env, rt));
  out.Set("boottimeNs", Napi::BigInt::New(env, bt));
  return out;
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("Probe", Probe::Init(env));
  exports.Set("abi", Napi::Function::New(env, Abi, "abi"));
  exports.Set("clocks", Napi::Function::New(env, Clocks, "clocks"));
  return exports;
}

}  // namespace
}  // namespace lanner

static Napi::Object InitLanner(Napi::Env env, Napi::Object exports) { return lanner::InitModule(env, exports); }

NODE_API_MODULE(lanner, InitLanner)

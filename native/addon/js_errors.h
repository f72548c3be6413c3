// How the addon reports failures to JS: an Error with `code` (the errno name user space switches
// on), `errno` and, for load failures, libbpf's `verifierLog`.
#pragma once
#include <napi.h>

#include <cstring>
#include <string>

#include "probe_core.h"

namespace lanner {

inline Napi::Value ThrowProbeError(Napi::Env env, const ProbeError& e) {
  Napi::Error err = Napi::Error::New(env, e.message);
  err.Set("code", Napi::String::New(env, e.code));
  err.Set("errno", Napi::Number::New(env, e.err));
  if (!e.log.empty()) err.Set("verifierLog", Napi::String::New(env, e.log));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

// rc: an errno value, negative or not.
inline Napi::Value ThrowErrno(Napi::Env env, const std::string& what, int rc) {
  ProbeError e{"EIO", rc < 0 ? -rc : rc, what + ": " + strerror(rc < 0 ? -rc : rc), ""};
  return ThrowProbeError(env, e);
}

}  // namespace lanner

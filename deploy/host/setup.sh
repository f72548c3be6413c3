#!/usr/bin/env bash
# Sets up this host to build, run and test Lanner: Debian packages, npm dependencies, the native
# addon (eBPF probe + N-API) and the TypeScript build. Idempotent, and quick when nothing is
# missing: every step checks first and does nothing if its output is newer than its inputs.
#
#   deploy/host/setup.sh          what `lanner run` needs
#   deploy/host/setup.sh test     plus what the test suite needs (podman, Prometheus, rsyslog, …)
#
# Nothing is fetched from anywhere but Debian's archive and the npm registry.
set -euo pipefail

mode=${1:-run}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

say() { printf 'setup: %s\n' "$*" >&2; }

# Build and run: clang/bpftool/libbpf build the probe; libbpf1/libelf1 load it.
run_pkgs=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config libcap2-bin)
# Tests: real containers, a real Prometheus/promtool, a real syslog receiver, kustomize.
# crun (podman's default) refuses cgroup hybrid mode, which is what these VMs run: tests use runc.
# The default-rule end-to-end tests build C helpers and run a private sshd for real SSH logins.
# containerd: a private instance with its CRI plugin for pod metadata; mmdebstrap: the local
# Debian base the agent's image is built from in test (no registry is reachable there).
test_pkgs=(podman runc busybox-static prometheus rsyslog uidmap iproute2 procps openssh-server openssh-client gcc libc6-dev make etcd-server openssl containerd mmdebstrap)
# Benchmarks only (npm run bench): a syscall load generator.
bench_pkgs=(stress-ng)

pkgs=("${run_pkgs[@]}")
case "$mode" in
  run) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) say "unknown mode '$mode' (run, test or bench)"; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "$mode" != run ] && ! command -v kubectl >/dev/null 2>&1; then
  missing+=(kubernetes-client)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}; run this script as root (it uses apt-get)"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci: exactly the lock's versions)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Native addon: rebuild when any native source or the CMake file is newer than the addon.
addon=build/Release/lanner.node
if [ ! -f "$addon" ] || [ -n "$(find native CMakeLists.txt -newer "$addon" -type f 2>/dev/null | head -n 1)" ]; then
  say "building the native addon and eBPF probe"
  npx --no-install cmake-js compile --log-level warn >/dev/null
fi

# TypeScript: rebuild when any source is newer than the last build.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src tsconfig.json package.json -newer "$stamp" -type f 2>/dev/null | head -n 1)" ]; then
  say "compiling TypeScript"
  npm run -s build:ts
  touch "$stamp"
fi

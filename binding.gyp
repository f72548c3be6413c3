# Mirror of CMakeLists.txt for node-gyp (CI builds both). The BPF object and skeleton are built by
# actions of a `type: none` target into the shared intermediate dir, then the addon includes it.
# The BPF inputs list the headers probe.bpf.c includes (lib/, progs/) by glob, as CMakeLists.txt does.
# Offline build: npx node-gyp rebuild --nodedir=/usr  (node headers from the Debian nodejs install)
{
  "targets": [
    {
      "target_name": "lanner_bpf",
      "type": "none",
      "actions": [
        {
          "action_name": "bpf_object",
          "inputs": ["native/bpf/probe.bpf.c", "native/bpf/events.h", "native/bpf/vmlinux/x86/vmlinux.h", "<!@(ls native/bpf/lib/*.h native/bpf/progs/*.bpf.h)"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/lanner/probe.bpf.o"],
          "action": ["sh", "-c", "mkdir -p <(SHARED_INTERMEDIATE_DIR)/lanner && clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function -Inative/bpf -c native/bpf/probe.bpf.c -o <(SHARED_INTERMEDIATE_DIR)/lanner/probe.bpf.o"]
        },
        {
          "action_name": "bpf_skeleton",
          "inputs": ["<(SHARED_INTERMEDIATE_DIR)/lanner/probe.bpf.o"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/lanner/probe.skel.h"],
          "action": ["sh", "-c", "bpftool gen skeleton <(SHARED_INTERMEDIATE_DIR)/lanner/probe.bpf.o name lanner_probe > <(SHARED_INTERMEDIATE_DIR)/lanner/probe.skel.h"]
        }
      ]
    },
    {
      "target_name": "lanner",
      "dependencies": ["lanner_bpf"],
      "sources": ["native/addon/addon.cc", "native/addon/probe_core.cc", "native/addon/ring_delivery.cc", "native/addon/syscalls_ia32.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<(SHARED_INTERMEDIATE_DIR)/lanner"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++14"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}

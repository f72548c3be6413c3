/**
 * What a component does when a setting is given nowhere: the documented defaults, by flag name
 * (feature gates as `feature-gates:Gate`). Only settings some check compares are listed.
 *
 * The kubelet has two sets. Run without `--config` it keeps its legacy command-line defaults
 * (anonymous requests allowed, authorization AlwaysAllow, read-only port 10255); with a
 * KubeletConfiguration file every field the file leaves out takes the file's defaults (anonymous
 * off, Webhook authorization, read-only port 0). Everything else is the same in both modes.
 * Sources: kubelet command-line reference and the kubelet.config.k8s.io/v1beta1 reference;
 * kube-apiserver, kube-controller-manager, kube-scheduler and etcd command-line references.
 */
import type { Component } from './types';

export type KubeletMode = 'flags' | 'config file';

const KUBELET_COMMON: Readonly<Record<string, string>> = {
  'streaming-connection-idle-timeout': '4h0m0s',
  'make-iptables-util-chains': 'true',
  'event-qps': '50',
  'rotate-certificates': 'false',
  'feature-gates:RotateKubeletServerCertificate': 'true',
  'pod-max-pids': '-1',
  'seccomp-default': 'false',
  'protect-kernel-defaults': 'false',
};

const KUBELET_FLAGS_MODE = new Map(Object.entries({ ...KUBELET_COMMON, 'anonymous-auth': 'true', 'authorization-mode': 'AlwaysAllow', 'read-only-port': '10255' }));
const KUBELET_FILE_MODE = new Map(Object.entries({ ...KUBELET_COMMON, 'anonymous-auth': 'false', 'authorization-mode': 'Webhook', 'read-only-port': '0' }));

const OTHERS: Readonly<Record<Exclude<Component, 'kubelet'>, ReadonlyMap<string, string>>> = {
  'kube-apiserver': new Map(
    Object.entries({
      'anonymous-auth': 'true',
      'authorization-mode': 'AlwaysAllow',
      profiling: 'true',
      'secure-port': '6443',
      'service-account-lookup': 'true',
      'service-account-extend-token-expiration': 'true',
    }),
  ),
  'kube-controller-manager': new Map(
    Object.entries({ profiling: 'true', 'bind-address': '0.0.0.0', 'use-service-account-credentials': 'false', 'feature-gates:RotateKubeletServerCertificate': 'true' }),
  ),
  'kube-scheduler': new Map(Object.entries({ profiling: 'true', 'bind-address': '0.0.0.0' })),
  etcd: new Map(
    Object.entries({
      'client-cert-auth': 'false',
      'auto-tls': 'false',
      'peer-client-cert-auth': 'false',
      'peer-auto-tls': 'false',
      'listen-client-urls': 'http://localhost:2379',
      'advertise-client-urls': 'http://localhost:2379',
      'listen-peer-urls': 'http://localhost:2380',
      'initial-advertise-peer-urls': 'http://localhost:2380',
    }),
  ),
  // kube-proxy's metrics address default (127.0.0.1:10249) already passes 4.3.1 as "not set".
  'kube-proxy': new Map(),
};

export function defaultsFor(component: Component, kubeletMode: KubeletMode = 'config file'): ReadonlyMap<string, string> {
  if (component === 'kubelet') return kubeletMode === 'flags' ? KUBELET_FLAGS_MODE : KUBELET_FILE_MODE;
  return OTHERS[component];
}

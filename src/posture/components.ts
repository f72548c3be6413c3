/**
 * Recognising Kubernetes components from an exec (argv[0], kernel comm, executable path). The
 * kernel truncates comm to 15 bytes, so `kube-controller-manager` shows up as `kube-controller`.
 */
import type { Component } from './types';

const BY_NAME: ReadonlyMap<string, Component> = new Map<string, Component>([
  ['kube-apiserver', 'kube-apiserver'],
  ['etcd', 'etcd'],
  ['kubelet', 'kubelet'],
  ['kube-controller-manager', 'kube-controller-manager'],
  ['kube-controller', 'kube-controller-manager'],
  ['kube-scheduler', 'kube-scheduler'],
  ['kube-proxy', 'kube-proxy'],
]);

/** hyperkube-style multiplexers carry the component name as argv[1]. */
const MULTIPLEXERS: ReadonlySet<string> = new Set(['hyperkube']);

export function basenameOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** Hot-path test: one or two Set lookups, no allocation beyond the basename slice. */
export function isComponentName(name: string): boolean {
  return BY_NAME.has(name) || MULTIPLEXERS.has(name);
}

export interface Recognised {
  readonly component: Component;
  /** argv with a multiplexer prefix removed, so argv[0] is the component. */
  readonly argv: readonly string[];
}

export function recogniseComponent(comm: string, exePath: string, argv: readonly string[]): Recognised | undefined {
  const arg0 = argv.length > 0 ? basenameOf(argv[0]!) : '';
  if (MULTIPLEXERS.has(arg0) || MULTIPLEXERS.has(basenameOf(exePath))) {
    const sub = argv.length > 1 ? BY_NAME.get(basenameOf(argv[1]!)) : undefined;
    return sub ? { component: sub, argv: argv.slice(1) } : undefined;
  }
  const component = BY_NAME.get(arg0) ?? BY_NAME.get(comm) ?? BY_NAME.get(basenameOf(exePath));
  return component ? { component, argv } : undefined;
}

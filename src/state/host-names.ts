/**
 * DNS names the rules compare connection addresses with (`fd.sip.name = kubernetes.default.svc.
 * cluster.local`, mining pool domains). As Falco does, the names are resolved in the background and
 * refreshed, never on the event path: an event's address is named by a map lookup (every watched
 * name that resolves to it), and an address that none of them resolves to has no name. Only names
 * some rule uses are resolved.
 *
 * Resolution reads the hosts file first (as the node's resolver would), then asks DNS through
 * c-ares with a timeout, not through getaddrinfo: a getaddrinfo that hangs on an unreachable name
 * server would hold one of libuv's four threadpool threads, which the file sinks also use.
 */
import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A name's addresses (empty when it has none). */
export type ResolveName = (name: string) => Promise<readonly string[]>;

export interface HostNamesOptions {
  /** Names known without asking: the agent's own Kubernetes service address (kubernetesServiceNames). */
  readonly staticHosts?: ReadonlyMap<string, readonly string[]>;
  /** The hosts file consulted before DNS ('' for none). */
  readonly hostsFile: string;
  readonly refreshMs: number;
  readonly timeoutMs: number;
  /** Names resolved at most (the rest are ignored, and counted). */
  readonly maxNames: number;
  /** Replaces DNS (tests). */
  readonly resolve?: ResolveName;
}

export interface HostNamesStats {
  readonly watched: number;
  readonly ignored: number;
  readonly addresses: number;
  readonly refreshes: number;
}

/** Addresses kept per name: round-robin records of a pool can be long. */
const MAX_ADDRESSES_PER_NAME = 64;

/** name (lower case) → addresses, from a hosts file's text. */
export function parseHostsFile(text: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const words = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/);
    if (words.length < 2 || isIP(words[0]!) === 0) continue;
    for (const name of words.slice(1)) {
      const key = name.toLowerCase();
      const ips = byName.get(key) ?? [];
      if (!ips.includes(words[0]!)) ips.push(words[0]!);
      byName.set(key, ips);
    }
  }
  return byName;
}

/**
 * The API server's service names → the address Kubernetes gives every pod in KUBERNETES_SERVICE_HOST:
 * the agent's DaemonSet runs on the host network, where the cluster's DNS names do not resolve.
 */
export function kubernetesServiceNames(env: NodeJS.ProcessEnv): Map<string, string[]> {
  const ip = env['KUBERNETES_SERVICE_HOST'] ?? '';
  if (isIP(ip) === 0) return new Map();
  const names = ['kubernetes.default.svc.cluster.local', 'kubernetes.default.svc', 'kubernetes.default', 'kubernetes'];
  return new Map(names.map((n) => [n, [ip]]));
}

export class WatchedHostNames {
  private names: readonly string[] = [];
  private ignored = 0;
  private byIp = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private refreshes = 0;
  private readonly resolveDns: ResolveName;

  constructor(private readonly opts: HostNamesOptions) {
    if (opts.resolve) {
      this.resolveDns = opts.resolve;
    } else {
      const resolver = new Resolver({ timeout: opts.timeoutMs, tries: 1 });
      this.resolveDns = async (name) => {
        const settled = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
        return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
      };
    }
  }

  /** Sets the names to resolve (a rules load); resolves them now if they changed. */
  watch(names: Iterable<string>): Promise<void> {
    const unique = [...new Set([...names].map((n) => n.toLowerCase()))].sort();
    this.ignored = Math.max(0, unique.length - this.opts.maxNames);
    const next = unique.slice(0, this.opts.maxNames);
    if (next.length === this.names.length && next.every((n, i) => n === this.names[i])) return Promise.resolve();
    this.names = next;
    if (next.length === 0) {
      this.generation++;
      this.byIp = new Map();
      this.stopTimer();
      return Promise.resolve();
    }
    if (this.timer === undefined && this.opts.refreshMs > 0) {
      this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs).unref();
    }
    return this.refresh();
  }

  /** The watched names that resolve to `ip` (sorted), if any. */
  namesOf(ip: string): readonly string[] | undefined {
    return this.byIp.get(ip);
  }

  stats(): HostNamesStats {
    return { watched: this.names.length, ignored: this.ignored, addresses: this.byIp.size, refreshes: this.refreshes };
  }

  close(): void {
    this.stopTimer();
    this.generation++;
  }

  /** Resolves every watched name and swaps the address map in at once; a newer refresh wins. */
  async refresh(): Promise<void> {
    const gen = ++this.generation;
    const names = this.names;
    const hosts = this.readHosts();
    const fixed = this.opts.staticHosts;
    const answers = await Promise.all(names.map(async (name) => fixed?.get(name) ?? hosts.get(name) ?? (await this.resolveDns(name).catch(() => []))));
    if (gen !== this.generation) return;
    const byIp = new Map<string, string[]>();
    names.forEach((name, i) => {
      for (const ip of answers[i]!.slice(0, MAX_ADDRESSES_PER_NAME)) {
        const list = byIp.get(ip);
        if (list === undefined) byIp.set(ip, [name]);
        else if (!list.includes(name)) list.push(name);
      }
    });
    this.byIp = byIp;
    this.refreshes++;
  }

  private readHosts(): Map<string, string[]> {
    if (this.opts.hostsFile === '') return new Map();
    try {
      return parseHostsFile(readFileSync(this.opts.hostsFile, 'utf8'));
    } catch {
      return new Map();
    }
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

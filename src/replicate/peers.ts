import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { PeerAddress } from '../config.js';

/** One other replica, by address: what requests are forwarded to and a snapshot is read from. */
export interface Peer {
  /** `address:grpcPort`, how the peer is told apart, and its label in /metrics. */
  readonly key: string;
  readonly address: string;
  /** The name it was found under: what its TLS certificate is checked against. */
  readonly name: string;
  readonly grpcPort: number;
  readonly httpPort: number;
}

export interface PeerSetOptions {
  peers: readonly PeerAddress[];
  dnsName: string;
  advertiseAddress: string;
  refreshMs: number;
  /** Resolves a name to its addresses (every A and AAAA record); dns.lookup, in tests too. */
  resolve?: (name: string) => Promise<string[]>;
}

/** On-demand refreshes (a joining replica asking whether it is known) run at most this often. */
const MIN_REFRESH_GAP_MS = 1_000;

/**
 * The other replicas: a static list and a DNS name (the headless Service: every pod, ready or not),
 * both resolved to addresses again every `refreshMs` and when a joining replica is not yet among
 * them. This process is left out: an address of its own interfaces (or the advertised one) with
 * its own gRPC port.
 */
export class PeerSet {
  private peers = new Map<string, Peer>();
  private readonly self: Set<string>;
  private readonly resolve: (name: string) => Promise<string[]>;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private lastRefresh = -Infinity;
  private readonly failing = new Set<string>();
  /** This process's bound ports: a peer's ports where not given, and how this process knows itself. */
  private own: { grpcPort: number; httpPort: number } | undefined;

  constructor(
    private readonly options: PeerSetOptions,
    private readonly onChange: (peers: readonly Peer[]) => void,
    private readonly log: Logger,
  ) {
    this.resolve = options.resolve ?? (async (name) => (await lookup(name, { all: true })).map((a) => a.address));
    this.self = new Set([...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)), options.advertiseAddress]);
  }

  /** True when peers were configured at all (a static list or a DNS name). */
  get configured(): boolean {
    return this.options.peers.length > 0 || this.options.dnsName !== '';
  }

  list(): readonly Peer[] {
    return [...this.peers.values()];
  }

  get(address: string, grpcPort: number): Peer | undefined {
    return this.peers.get(peerKey(address, grpcPort));
  }

  /** Once the listeners are bound: resolves once, then every `refreshMs`. */
  async start(own: { grpcPort: number; httpPort: number }): Promise<void> {
    this.own = own;
    await this.refresh();
    const tick = () => {
      this.timer = setTimeout(() => void this.refresh().finally(tick), this.options.refreshMs);
      this.timer.unref();
    };
    tick();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A refresh now unless one ran within the last second; resolves when the list is current. */
  refreshSoon(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.own === undefined || performance.now() - this.lastRefresh < MIN_REFRESH_GAP_MS) return Promise.resolve();
    return this.refresh();
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.resolveAll().finally(() => {
      this.refreshing = undefined;
      this.lastRefresh = performance.now();
    });
    return this.refreshing;
  }

  private async resolveAll(): Promise<void> {
    const own = this.own!;
    const { peers, dnsName } = this.options;
    const wanted: PeerAddress[] = [...peers, ...(dnsName === '' ? [] : [{ host: dnsName, grpcPort: undefined, httpPort: undefined }])];
    const next = new Map<string, Peer>();
    let complete = true;
    await Promise.all(
      wanted.map(async (p) => {
        let addresses: string[];
        try {
          addresses = isIP(p.host) ? [p.host] : await this.resolve(p.host);
          this.failing.delete(p.host);
        } catch (err) {
          complete = false;
          // Once per outage: a name that stays unresolvable is said once, not every refresh.
          if (!this.failing.has(p.host)) this.log.warn({ err, name: p.host }, 'peer name does not resolve; keeping the peers it gave before');
          this.failing.add(p.host);
          for (const old of this.peers.values()) if (old.name === p.host) next.set(old.key, old);
          return;
        }
        for (const address of addresses) {
          const grpcPort = p.grpcPort ?? own.grpcPort;
          if (this.self.has(address) && grpcPort === own.grpcPort) continue;
          const key = peerKey(address, grpcPort);
          next.set(key, { key, address, name: p.host, grpcPort, httpPort: p.httpPort ?? own.httpPort });
        }
      }),
    );
    const changed = next.size !== this.peers.size || [...next.keys()].some((k) => !this.peers.has(k));
    this.peers = next;
    if (changed) {
      this.log.info({ peers: [...next.keys()], complete }, 'replication peers');
      this.onChange(this.list());
    }
  }
}

export function peerKey(address: string, grpcPort: number): string {
  return isIP(address) === 6 ? `[${address}]:${grpcPort}` : `${address}:${grpcPort}`;
}

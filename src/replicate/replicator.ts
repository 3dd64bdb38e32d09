import { randomUUID } from 'node:crypto';
import { credentials, type ChannelCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SnapshotTarget } from '../persist/snapshot-format.js';
import type { OtlpReceiver } from '../otlp/receiver.js';
import type { RemoteWriteReceiver } from '../remotewrite/receiver.js';
import type { Tsdb } from '../tsdb/db.js';
import { catchUp, type CaughtUp } from './catch-up.js';
import { PeerForwarder } from './forwarder.js';
import { PeerSet, type Peer } from './peers.js';
import { forwardImplementation, type ReceiveCounters } from './receive.js';
import { replicationRoutes } from './routes.js';
import { Sequences } from './sequences.js';
import { onEveryStoredBody, type BodyKind } from '../body-kinds.js';
import { FORWARD_PATH, replicationDefinition } from './wire.js';

const DNS_REFRESH_MS = 10_000;
/** How often this replica vouches that it is running, and the stall past which it no longer can. */
const HEARTBEAT_MS = 500;
const STALL_MS = 2_000;
/** Drops are logged when they begin and then at most this often, with the counts since the last line. */
const DROP_LOG_MS = 60_000;

/** The TLS files the listeners serve (src/server/tls.ts's TlsFiles): replication presents and checks the same. */
export interface TlsSource {
  readonly options: SecureContextOptions;
  subscribe(fn: (options: SecureContextOptions) => void): () => void;
}

export interface ReplicatorDeps {
  config: Pick<Config, 'peers' | 'peersDns' | 'advertiseAddress' | 'peerQueueBytes' | 'retentionMs' | 'outOfOrderWindowMs' | 'maxDecompressedBytes'>;
  tsdb: Tsdb;
  otlp: OtlpReceiver;
  remoteWrite: RemoteWriteReceiver | undefined;
  target: SnapshotTarget;
  tls: TlsSource | undefined;
  log: Logger;
}

/** Replication's counters as /metrics reads them. */
export interface ReplicationStats {
  peers(): { peer: string; forwarded: number; droppedQueueFull: number; refused: number; queuedBytes: number }[];
  readonly receive: Readonly<ReceiveCounters>;
}

/**
 * Every replica holds every sample: each request a replica stores from a collector is forwarded
 * to every peer, and a starting replica catches up from a peer's snapshot before it reports ready.
 */
export class Replicator {
  /** This process, to its peers: a new id each start, so a peer tells a restarted sender from the old one. */
  readonly sender = randomUUID();
  readonly peers: PeerSet;
  private readonly forwarders = new Map<string, PeerForwarder>();
  private readonly receiveCounters: ReceiveCounters = { received: 0, refused: 0, gaps: 0 };
  private readonly sequences = new Sequences();
  private credentials: ChannelCredentials;
  private unsubscribeTls: (() => void) | undefined;
  private caughtUp = false;
  private dropsSinceLog = new Map<string, number>();
  private dropLogTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: ReplicatorDeps) {
    this.log = deps.log;
    const { config } = deps;
    this.peers = new PeerSet(
      { peers: config.peers, dnsName: config.peersDns, advertiseAddress: config.advertiseAddress, refreshMs: DNS_REFRESH_MS },
      (peers) => this.setPeers(peers),
      this.log,
    );
    this.credentials = channelCredentials(deps.tls?.options);
    this.unsubscribeTls = deps.tls?.subscribe((options) => {
      this.credentials = channelCredentials(options);
      for (const f of this.forwarders.values()) f.setCredentials(this.credentials);
    });
    // What a peer forwarded it has forwarded to every replica itself; a logged body was forwarded when first stored.
    onEveryStoredBody(deps, (kind, body, origin) => {
      if (origin === 'client') this.forward(kind, body);
    });
  }

  get stats(): ReplicationStats {
    return {
      peers: () => [...this.forwarders.values()].map((f) => ({ peer: f.peer.key, ...f.counters })),
      receive: this.receiveCounters,
    };
  }

  /**
   * Forward's limit as sent, for the OTLP receiver's interceptor: a forwarded body is one the
   * first replica stored after inflating it, so it is bounded by the decompressed limit, and its
   * bytes count against the same in-flight budget as a collector's request while grpc-js reads it.
   */
  boundedMethods(): ReadonlyMap<string, number> {
    return new Map([[FORWARD_PATH, this.deps.config.maxDecompressedBytes]]);
  }

  grpcDefinition(): ServiceDefinition {
    return replicationDefinition();
  }

  grpcImplementation(): UntypedServiceImplementation {
    const { otlp, remoteWrite } = this.deps;
    return forwardImplementation(
      { otlp, remoteWrite, budget: otlp.budget, sequences: this.sequences, onGap: (sender, last) => this.gap(sender, last), log: this.log },
      this.receiveCounters,
    );
  }

  routes(app: FastifyInstance): void {
    replicationRoutes(app, {
      peers: this.peers,
      join: (peer) => this.join(peer),
      sender: this.sender,
      caughtUp: () => this.caughtUp,
      target: this.deps.target,
    });
  }

  /**
   * Finds the peers and restores the newest window from one of them; undefined when none gave it.
   * The receivers must be holding their requests, and the listeners bound on `ports`, before this starts.
   */
  async catchUp(ports: { grpcPort: number; httpPort: number }): Promise<CaughtUp | undefined> {
    await this.peers.start(ports);
    const { config, tls } = this.deps;
    try {
      return await catchUp({
        peers: this.peers.list(),
        self: { ...ports, address: config.advertiseAddress },
        tls: () => tls?.options,
        sequences: this.sequences,
        target: this.deps.target,
        retentionMs: config.retentionMs,
        log: this.log,
      });
    } finally {
      this.caughtUp = true;
      this.sequences.markCaughtUp();
      this.startHeartbeat();
    }
  }

  /**
   * A replica that stalls (a frozen node, a stopped process) cannot know what its peers forwarded
   * meanwhile: they may have given up and dropped it. Every HEARTBEAT_MS it vouches for its live
   * span a little ahead; after a stall the vouch has lapsed (so calls answered before this timer
   * runs again are UNAVAILABLE), and the live span restarts as after a lost forward.
   */
  private startHeartbeat(): void {
    const { coverage } = this.deps.tsdb;
    let last = Date.now();
    coverage.vouchLive(last + STALL_MS);
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      if (now - last > STALL_MS) this.gap('this replica, stalled', last);
      last = now;
      coverage.vouchLive(now + STALL_MS);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * Shutdown, once the listeners take no more requests: what is queued for peers gets up to
   * `graceMs` to arrive, so a rollout loses nothing the collectors were told was stored.
   */
  async close(graceMs: number): Promise<void> {
    const until = performance.now() + graceMs;
    while (performance.now() < until && [...this.forwarders.values()].some((f) => !f.idle)) await new Promise((resolve) => setTimeout(resolve, 20));
    clearInterval(this.heartbeat);
    this.peers.close();
    this.unsubscribeTls?.();
    clearTimeout(this.dropLogTimer);
    for (const f of this.forwarders.values()) f.close();
    this.forwarders.clear();
  }

  private forward(kind: BodyKind, body: Uint8Array): void {
    for (const f of this.forwarders.values()) f.push(kind, body);
  }

  private join(peer: Peer): number {
    let forwarder = this.forwarders.get(peer.key);
    if (forwarder === undefined) {
      this.setPeers([...this.peers.list()]);
      forwarder = this.forwarders.get(peer.key)!;
    }
    this.log.info({ peer: peer.key }, 'a peer joined to catch up');
    return forwarder.restart();
  }

  private setPeers(peers: readonly Peer[]): void {
    const keep = new Set(peers.map((p) => p.key));
    for (const [key, f] of this.forwarders) {
      if (keep.has(key)) continue;
      f.close();
      this.forwarders.delete(key);
    }
    for (const peer of peers) {
      if (this.forwarders.has(peer.key)) continue;
      this.forwarders.set(peer.key, new PeerForwarder(peer, this.credentials, this.sender, this.deps.config.peerQueueBytes, (p) => this.dropped(p)));
    }
  }

  /**
   * A body forwarded here was lost: the store no longer holds every sample from the gap on. The
   * live span restarts now, and what came before it stays covered up to the last body that arrived
   * whole, less the out-of-order window (the lost body may have carried samples that old).
   */
  private gap(sender: string, lastWholeMs: number): void {
    const { coverage } = this.deps.tsdb;
    const liveSince = coverage.liveSinceMs;
    const now = Date.now();
    coverage.startLive(now);
    coverage.addRestored({ fromMs: liveSince, toMs: lastWholeMs - this.deps.config.outOfOrderWindowMs });
    this.log.warn(
      { sender, lastWhole: Number.isFinite(lastWholeMs) ? new Date(lastWholeMs).toISOString() : undefined },
      'a peer dropped requests meant for this replica; queries reading back past now answer UNAVAILABLE until their window is whole again',
    );
  }

  private dropped(peer: Peer): void {
    this.dropsSinceLog.set(peer.key, (this.dropsSinceLog.get(peer.key) ?? 0) + 1);
    if (this.dropLogTimer === undefined) this.logDrops();
  }

  private logDrops(): void {
    if (this.dropsSinceLog.size === 0) {
      this.dropLogTimer = undefined;
      return;
    }
    const dropped = Object.fromEntries(this.dropsSinceLog);
    this.dropsSinceLog = new Map();
    this.log.warn({ dropped }, 'requests not forwarded to peers (down, slow or refusing them); they will answer UNAVAILABLE where the gap matters');
    this.dropLogTimer = setTimeout(() => this.logDrops(), DROP_LOG_MS);
    this.dropLogTimer.unref();
  }
}

function channelCredentials(tls: SecureContextOptions | undefined): ChannelCredentials {
  if (tls === undefined) return credentials.createInsecure();
  const pem = (v: unknown) => (v === undefined ? null : Buffer.from(v as string | Buffer));
  return credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}

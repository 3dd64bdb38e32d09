import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { checkedBody, restoreBody, SnapshotRefused, type RestoreResult, type SnapshotTarget } from '../persist/snapshot-format.js';
import { peerRequest } from './http-client.js';
import type { Peer } from './peers.js';
import type { Sequences } from './sequences.js';
import { JOIN_PATH, SNAPSHOT_PATH } from './wire.js';

const JOIN_TIMEOUT_MS = 5_000;
const SNAPSHOT_TIMEOUT_MS = 120_000;
/** A snapshot of the largest store the limits allow is far below this; a larger answer is not a snapshot. */
const MAX_SNAPSHOT_BYTES = 2 ** 31 - 1;
/** A peer that cannot be reached this many times in a row is taken to be down. */
const UNREACHABLE_TRIES = 3;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;
/** How long a peer may say it does not know this replica before that is logged as an error. */
const NOT_KNOWN_WARN_MS = 15_000;

export interface CatchUpDeps {
  peers: readonly Peer[];
  /** How this replica names itself to a peer: its ports, and its address when advertised (else the peer reads it off the connection). */
  self: { grpcPort: number; httpPort: number; address: string };
  tls: () => SecureContextOptions | undefined;
  sequences: Sequences;
  target: SnapshotTarget;
  retentionMs: number;
  log: Logger;
}

export interface CaughtUp extends RestoreResult {
  peer: string;
  bytes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A starting replica's catch-up, run while its receivers hold every request they get: first it
 * joins each live peer (the peer forwards every request to it from then on, and says the first
 * sequence number it will use), then it restores a snapshot from the first joined peer that has
 * caught up itself. What arrived meanwhile is stored after the snapshot, in arrival order; a
 * request both in the snapshot and forwarded is stored twice, which changes nothing.
 * Undefined when no peer gave a snapshot (none is up, or all are catching up too).
 */
export async function catchUp(deps: CatchUpDeps): Promise<CaughtUp | undefined> {
  const joined = (await Promise.all(deps.peers.map((peer) => join(peer, deps)))).filter((p): p is Peer => p !== undefined);
  for (const peer of joined) {
    const started = performance.now();
    let answer;
    try {
      answer = await peerRequest(peer, 'GET', SNAPSHOT_PATH, deps.tls(), SNAPSHOT_TIMEOUT_MS, MAX_SNAPSHOT_BYTES);
    } catch (err) {
      deps.log.warn({ err, peer: peer.key }, 'reading the snapshot of a peer failed; trying the next');
      continue;
    }
    if (answer.status !== 200) {
      deps.log.info({ peer: peer.key, status: answer.status, answer: answer.body.toString('utf8', 0, 300) }, 'peer gave no snapshot; trying the next');
      continue;
    }
    try {
      const restored = restoreBody(checkedBody(answer.body), deps.target, Date.now() - deps.retentionMs);
      const result = { ...restored, peer: peer.key, bytes: answer.body.length };
      deps.log.info(
        { ...result, ms: Math.round(performance.now() - started), writtenAt: new Date(restored.writtenAtMs).toISOString() },
        'caught up from a peer',
      );
      return result;
    } catch (e) {
      if (!(e instanceof SnapshotRefused)) throw e;
      deps.log.error({ peer: peer.key, reason: e.reason }, `the snapshot of a peer was not restored (${e.reason}: ${e.message}); trying the next`);
    }
  }
  return undefined;
}

/**
 * Joins one peer: the peer resolves its peers again if this replica is not among them yet, so a
 * pod the headless Service has just added is found. A peer that does not know this replica keeps
 * being asked (its requests would otherwise never reach this one); a peer that cannot be reached
 * is down, and undefined.
 */
async function join(peer: Peer, deps: CatchUpDeps): Promise<Peer | undefined> {
  const { self } = deps;
  const query = new URLSearchParams({ grpcPort: String(self.grpcPort), httpPort: String(self.httpPort), ...(self.address ? { address: self.address } : {}) });
  const started = performance.now();
  let unreachable = 0;
  let waitMs = RETRY_FIRST_MS;
  let warned = false;
  for (;;) {
    try {
      const answer = await peerRequest(peer, 'POST', `${JOIN_PATH}?${query}`, deps.tls(), JOIN_TIMEOUT_MS, 64 * 1024);
      unreachable = 0;
      if (answer.status === 200) {
        const { data } = JSON.parse(answer.body.toString('utf8')) as { data: { sender: string; nextSeq: number } };
        deps.sequences.joined(data.sender, data.nextSeq, Date.now());
        return peer;
      }
      if (!warned && performance.now() - started > NOT_KNOWN_WARN_MS) {
        warned = true;
        deps.log.error(
          { peer: peer.key, status: answer.status, answer: answer.body.toString('utf8', 0, 300) },
          'a peer does not forward to this replica yet; it stays unready until the peer does (check --peers, --peers-dns and --advertise-address on both)',
        );
      }
    } catch (err) {
      if (++unreachable >= UNREACHABLE_TRIES) {
        deps.log.info({ peer: peer.key, err: (err as Error).message }, 'peer unreachable; catching up without it');
        return undefined;
      }
    }
    await sleep(waitMs);
    waitMs = Math.min(RETRY_MAX_MS, 2 * waitMs);
  }
}

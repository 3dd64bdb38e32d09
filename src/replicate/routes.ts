import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { header, type SnapshotTarget } from '../persist/snapshot-format.js';
import { encodeSliced } from '../persist/sliced.js';
import type { Peer, PeerSet } from './peers.js';
import { JOIN_PATH, SNAPSHOT_PATH } from './wire.js';

/** The snapshot encoder's slice: as the data dir's writer, so KEDA's calls wait at most a few ms behind it. */
const SLICE_MS = 2;

export interface RouteDeps {
  peers: PeerSet;
  /** The peer is catching up: restart its queue; the number of the next body it will get. */
  join: (peer: Peer) => number;
  sender: string;
  caughtUp: () => boolean;
  target: SnapshotTarget;
}

/**
 * The API port's side of catching up. `POST /api/v1/replicate/join` is a starting replica asking
 * to be forwarded to: answered only once it is among this replica's peers. `GET
 * /api/v1/replicate/snapshot` is the whole store in the data dir's snapshot format, encoded in
 * slices; a replica still catching up has none to give (503), and snapshots are encoded one at a
 * time.
 */
export function replicationRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post(JOIN_PATH, async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    const grpcPort = Number(query.grpcPort);
    if (!Number.isInteger(grpcPort) || grpcPort < 1 || grpcPort > 65535) {
      return reply.code(400).send({ status: 'error', errorType: 'bad_data', error: "parameter grpcPort: the joining replica's gRPC port is required" });
    }
    const address = query.address || (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    let peer = deps.peers.get(address, grpcPort);
    if (peer === undefined) {
      await deps.peers.refreshSoon();
      peer = deps.peers.get(address, grpcPort);
    }
    if (peer === undefined) {
      return reply.code(409).send({
        status: 'error',
        errorType: 'unavailable',
        error: `${address}:${grpcPort} is not among this replica's peers (${
          deps.peers
            .list()
            .map((p) => p.key)
            .join(', ') || 'none'
        }); a new pod appears in DNS within seconds`,
      });
    }
    return { status: 'success', data: { sender: deps.sender, nextSeq: deps.join(peer) } };
  });

  let encoding: Promise<unknown> = Promise.resolve();
  app.get(SNAPSHOT_PATH, async (req, reply) => {
    if (!deps.caughtUp()) {
      return reply.code(503).send({ status: 'error', errorType: 'unavailable', error: 'this replica is catching up itself: ask another peer' });
    }
    const run = encoding.then(async () => {
      const chunks: Buffer[] = [];
      const aborted = () => req.raw.destroyed;
      const { crc, bodyBytes } = await encodeSliced(deps.target, { sliceMs: SLICE_MS, atMs: Date.now(), aborted }, async (chunk) => void chunks.push(chunk));
      const head = header(crc, bodyBytes);
      return { chunks: [head, ...chunks], bytes: head.length + bodyBytes };
    });
    encoding = run.catch(() => undefined);
    const { chunks, bytes } = await run;
    return reply.header('content-type', 'application/octet-stream').header('content-length', bytes).send(Readable.from(chunks));
  });
}

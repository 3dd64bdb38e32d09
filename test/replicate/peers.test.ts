import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parsePeers } from '../../src/config.js';
import { PeerSet, type Peer } from '../../src/replicate/peers.js';

const quiet = pino({ level: 'silent' });

describe('PeerSet', () => {
  it('resolves names, fills in its own ports, and leaves itself out', async () => {
    const changes: (readonly Peer[])[] = [];
    const set = new PeerSet(
      { peers: parsePeers('127.0.0.1:4001:9001,127.0.0.1:4002,localhost:4003:9003'), dnsName: '', advertiseAddress: '', refreshMs: 60_000 },
      (p) => changes.push(p),
      quiet,
    );
    await set.start({ grpcPort: 4001, httpPort: 9000 });
    set.close();
    const keys = set.list().map((p) => p.key);
    expect(keys).not.toContain('127.0.0.1:4001');
    expect(set.get('127.0.0.1', 4002)).toMatchObject({ name: '127.0.0.1', grpcPort: 4002, httpPort: 9000 });
    expect(set.get('127.0.0.1', 4003)).toMatchObject({ name: 'localhost', httpPort: 9003 });
    expect(changes).toHaveLength(1);
  });

  it('keeps the peers a name gave when it stops resolving, and says so once', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    let answer: string[] | Error = ['10.0.0.7', '10.0.0.8'];
    const resolve = async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const set = new PeerSet({ peers: [], dnsName: 'scaler-peers.keda.svc', advertiseAddress: '10.0.0.8', refreshMs: 60_000, resolve }, () => undefined, log);
    await set.start({ grpcPort: 4317, httpPort: 9090 });
    set.close();
    // 10.0.0.8 is this replica: advertised, with its own gRPC port.
    expect(set.list().map((p) => p.key)).toEqual(['10.0.0.7:4317']);
    answer = new Error('ENOTFOUND');
    await new Promise((r) => setTimeout(r, 1_050));
    await set.refreshSoon();
    await new Promise((r) => setTimeout(r, 1_050));
    await set.refreshSoon();
    expect(set.list().map((p) => p.key)).toEqual(['10.0.0.7:4317']);
    expect(lines.filter((l) => l.includes('does not resolve'))).toHaveLength(1);
  });
});

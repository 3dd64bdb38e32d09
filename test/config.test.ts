import { describe, expect, it } from 'vitest';
import { autoIngestThreads, ConfigError, loadConfig, parseBytes, parseDurationMs, parsePeers, SETTINGS } from '../src/config.js';

describe('config', () => {
  it('has embedded defaults for every setting', () => {
    const c = loadConfig([], {});
    expect(c.otlpGrpcPort).toBe(4317);
    expect(c.otlpHttpPort).toBe(4318);
    expect(c.httpPort).toBe(9090);
    expect(c.retentionMs).toBe(600_000);
    expect(c.lookbackDeltaMs).toBe(300_000);
    expect(c.maxRequestBytes).toBe(4 * 1024 * 1024);
    expect(c.lazySeries).toBe(false);
    expect(c.tlsCertFile).toBeUndefined();
  });

  it('takes every setting from its environment variable and its flag, the flag winning', () => {
    for (const s of SETTINGS) {
      expect(s.env).toMatch(/^SCALER_[A-Z_]+$/);
      expect(s.flag).toMatch(/^--[a-z-]+$/);
    }
    const env = { SCALER_HTTP_PORT: '9100', SCALER_RETENTION: '2m', SCALER_LAZY_SERIES: 'true' };
    const c = loadConfig(['--http-port', '9200', '--max-series=5'], env);
    expect(c.httpPort).toBe(9200);
    expect(c.retentionMs).toBe(120_000);
    expect(c.lazySeries).toBe(true);
    expect(c.maxSeries).toBe(5);
    expect(loadConfig(['--lazy-series'], {}).lazySeries).toBe(true);
  });

  it('names the bad setting and where its value came from', () => {
    expect(() => loadConfig([], { SCALER_OTLP_GRPC_PORT: '70000' })).toThrow(/otlpGrpcPort \(SCALER_OTLP_GRPC_PORT="70000"\)/);
    expect(() => loadConfig(['--retention', 'soon'], {})).toThrow(/retentionMs \(--retention="soon"\).*not a duration/);
    expect(() => loadConfig(['--name-translation', 'Bogus'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--no-such-flag'], {})).toThrow(/unknown flag --no-such-flag/);
    expect(() => loadConfig([], { SCALER_TLS_CERT_FILE: '/c.pem' })).toThrow(/tlsCertFile\/tlsKeyFile/);
    expect(() => loadConfig(['--wal', 'true'], {})).toThrow(/wal: the write-ahead log is kept in the data dir/);
    expect(loadConfig(['--wal', 'true', '--data-dir', '/d'], {}).wal).toBe(true);
  });

  it('parses durations and sizes the Prometheus way', () => {
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('90')).toBe(90_000);
    expect(() => parseDurationMs('1h 30m')).toThrow();
    expect(parseBytes('512KiB')).toBe(524_288);
    expect(parseBytes('1048576')).toBe(1_048_576);
  });

  it('reads peers as host, host:grpcPort or host:grpcPort:httpPort, and names a bad one', () => {
    expect(parsePeers(' scaler-0 , 10.0.0.7:4317:9090,[fd00::7]:14317, ')).toEqual([
      { host: 'scaler-0', grpcPort: undefined, httpPort: undefined },
      { host: '10.0.0.7', grpcPort: 4317, httpPort: 9090 },
      { host: 'fd00::7', grpcPort: 14317, httpPort: undefined },
    ]);
    expect(loadConfig([], {}).peers).toEqual([]);
    expect(() => loadConfig(['--peers', 'a:1:2:3'], {})).toThrow(
      /peers \(--peers="a:1:2:3"\): peer "a:1:2:3" is not host, host:grpcPort or host:grpcPort:httpPort/,
    );
    expect(() => loadConfig([], { SCALER_PEERS: 'b:0' })).toThrow(/peer "b:0"/);
    expect(loadConfig([], { SCALER_PEER_QUEUE_BYTES: '1MiB' }).peerQueueBytes).toBe(1_048_576);
  });

  it('starts no decoding threads on 1–2 cores, the cores less two above, up to 4, or the number given', () => {
    expect([1, 2, 3, 4, 6, 16].map((cores) => autoIngestThreads(cores))).toEqual([0, 0, 1, 2, 4, 4]);
    expect(loadConfig([], {}).ingestThreads).toBe(autoIngestThreads());
    expect(loadConfig(['--ingest-threads', '3'], {}).ingestThreads).toBe(3);
    expect(loadConfig([], { SCALER_INGEST_THREADS: '0' }).ingestThreads).toBe(0);
    expect(() => loadConfig(['--ingest-threads', 'two'], {})).toThrow(
      /ingestThreads \(--ingest-threads="two"\): "two" is not auto or a whole number of threads/,
    );
    expect(() => loadConfig(['--ingest-threads', '-1'], {})).toThrow(/ingestThreads/);
  });
});

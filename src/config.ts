import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseUnitDuration } from './common/duration.js';

/**
 * Every setting has one default, one environment variable and one CLI flag. The table below
 * is the single source: the README's settings table and the Helm chart's values follow it.
 */

/** Prometheus-style duration ("90s", "1h30m", "500ms") or a plain number of seconds. */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const ms = parseUnitDuration(trimmed);
  if (ms === undefined) throw new Error(`"${text}" is not a duration (examples: 500ms, 30s, 10m, 1h30m)`);
  return ms;
}

/** Byte sizes: plain bytes or with a binary suffix ("4MiB", "512KiB", "1GiB"). */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a size (examples: 1048576, 512KiB, 4MiB)`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const factor: Record<string, number> = {
    b: 1,
    kib: 1024,
    mib: 1024 ** 2,
    gib: 1024 ** 3,
    kb: 1000,
    mb: 1000 ** 2,
    gb: 1000 ** 3,
  };
  return Math.round(Number(m[1]) * factor[unit]!);
}

/** One other replica: a host and, when they differ from this process's own, its gRPC and API ports. */
export interface PeerAddress {
  host: string;
  grpcPort: number | undefined;
  httpPort: number | undefined;
}

/**
 * A comma-separated list of replicas, each `host`, `host:grpcPort` or `host:grpcPort:httpPort`
 * (an IPv6 address in brackets); a port left out is this process's own.
 */
export function parsePeers(text: string): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d+))?(?::(\d+))?$/.exec(entry);
    const ports = m ? [m[2], m[3]].map((p) => (p === undefined ? undefined : Number(p))) : [];
    if (!m || ports.some((p) => p !== undefined && (p < 1 || p > 65535))) {
      throw new Error(
        `peer ${JSON.stringify(entry)} is not host, host:grpcPort or host:grpcPort:httpPort (examples: 10.0.0.7, scaler-1:4317:9090, [fd00::7]:4317)`,
      );
    }
    peers.push({ host: m[1]!.replace(/^\[(.*)\]$/, '$1'), grpcPort: ports[0], httpPort: ports[1] });
  }
  return peers;
}

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** A transform that runs `parse`, its error becoming the setting's issue. */
function parsing<T>(parse: (text: string) => T) {
  return (text: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(text);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  };
}
/** A setting given as a number, or as text that `parse` turns into one. */
function parsedText(parse: (text: string) => number) {
  const fromText = parsing(parse);
  return z.union([z.number(), z.string()]).transform((v, ctx) => (typeof v === 'number' ? v : fromText(v, ctx)));
}
const duration = parsedText(parseDurationMs);
const peerList = z.string().transform(parsing(parsePeers));
const bytes = parsedText(parseBytes);
const positiveDuration = duration.pipe(z.number().positive({ message: 'must be more than 0' }));
/**
 * The decoding threads `auto` starts: none on 1–2 cores, where a worker would take the core the
 * event loop needs (the main thread decodes, in slices), else the cores less two, up to 4.
 */
export function autoIngestThreads(cores = availableParallelism()): number {
  return Math.min(4, Math.max(0, cores - 2));
}
function parseIngestThreads(text: string): number {
  const t = text.trim();
  if (t === 'auto') return autoIngestThreads();
  if (!/^\d+$/.test(t) || Number(t) > 64) throw new Error(`"${text}" is not auto or a whole number of threads from 0 to 64`);
  return Number(t);
}
const ingestThreads = parsedText(parseIngestThreads);
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const optionalPath = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const NAME_TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
] as const;

interface SettingSpec {
  /** Key in the Config object. */
  key: string;
  env: string;
  flag: string;
  default: string | undefined;
  description: string;
  schema: z.ZodType;
}

// One row a setting, read as a table.
// prettier-ignore
export const SETTINGS = [
  { key: 'listenAddress', env: 'SCALER_LISTEN_ADDRESS', flag: '--listen-address', default: '0.0.0.0', description: 'Address every listener binds to.', schema: z.string().min(1) },
  { key: 'otlpGrpcPort', env: 'SCALER_OTLP_GRPC_PORT', flag: '--otlp-grpc-port', default: '4317', description: 'gRPC port: OTLP MetricsService, KEDA ExternalScaler, grpc.health.v1.', schema: port },
  { key: 'otlpHttpPort', env: 'SCALER_OTLP_HTTP_PORT', flag: '--otlp-http-port', default: '4318', description: 'OTLP/HTTP port (POST /v1/metrics); also serves the gRPC services.', schema: port },
  { key: 'httpPort', env: 'SCALER_HTTP_PORT', flag: '--http-port', default: '9090', description: 'HTTP port: /api/v1/*, web page, /metrics, /healthz, /readyz.', schema: port },
  { key: 'retentionMs', env: 'SCALER_RETENTION', flag: '--retention', default: '10m', description: 'How long samples are kept; series with no sample inside it are freed.', schema: duration },
  { key: 'lookbackDeltaMs', env: 'SCALER_LOOKBACK_DELTA', flag: '--lookback-delta', default: '5m', description: 'PromQL lookback window for instant vector selectors.', schema: duration },
  { key: 'maxSeries', env: 'SCALER_MAX_SERIES', flag: '--max-series', default: '100000', description: 'Most series held at once; new series past it are rejected and reported.', schema: positiveInt },
  { key: 'maxSamplesPerSeries', env: 'SCALER_MAX_SAMPLES_PER_SERIES', flag: '--max-samples-per-series', default: '720', description: 'Most samples one series holds; past it the oldest sample is dropped.', schema: positiveInt },
  { key: 'outOfOrderWindowMs', env: 'SCALER_OUT_OF_ORDER_WINDOW', flag: '--out-of-order-window', default: '30s', description: 'Samples this much older than a series\' newest are still inserted in order; older ones are rejected.', schema: duration },
  { key: 'maxRequestBytes', env: 'SCALER_MAX_REQUEST_BYTES', flag: '--max-request-bytes', default: '4MiB', description: 'Largest OTLP or remote-write request body as sent (compressed).', schema: bytes },
  { key: 'maxDecompressedBytes', env: 'SCALER_MAX_DECOMPRESSED_BYTES', flag: '--max-decompressed-bytes', default: '32MiB', description: 'Largest OTLP or remote-write request body after decompression.', schema: bytes },
  { key: 'maxInflightBytes', env: 'SCALER_MAX_INFLIGHT_BYTES', flag: '--max-inflight-bytes', default: '96MiB', description: 'Most OTLP and remote-write request bytes (as sent plus decompressed) held at once across all requests and every transport; past it requests get 429 / RESOURCE_EXHAUSTED to retry.', schema: bytes },
  { key: 'ingestThreads', env: 'SCALER_INGEST_THREADS', flag: '--ingest-threads', default: 'auto', description: 'Worker threads that decode OTLP bodies (protobuf and JSON) beside the event loop, which translates and stores them in arrival order; 0 decodes on the event loop, in 1 ms slices. auto: 0 on 1–2 cores, else the cores less two, up to 4.', schema: ingestThreads },
  { key: 'maxSeriesBytes', env: 'SCALER_MAX_SERIES_BYTES', flag: '--max-series-bytes', default: '4KiB', description: 'Most bytes of label names and values in one series; points of a larger one are rejected and reported.', schema: bytes },
  { key: 'remoteWrite', env: 'SCALER_REMOTE_WRITE', flag: '--remote-write', default: 'true', description: 'Accept Prometheus remote write (1.0 and 2.0) at POST /api/v1/write on the HTTP and OTLP/HTTP ports.', schema: bool },
  { key: 'queryTimeoutMs', env: 'SCALER_QUERY_TIMEOUT', flag: '--query-timeout', default: '10s', description: 'Longest a PromQL query may take, waiting for its turn included; checked at every step of every subquery.', schema: duration },
  { key: 'queryMaxSamples', env: 'SCALER_QUERY_MAX_SAMPLES', flag: '--query-max-samples', default: '2000000', description: 'Most samples one query may hold in memory at once, counting every step of every subquery; also the total for the queries in flight of each lane (API, KEDA triggers). About 32 bytes a sample: the default bounds all queries together to ~130 MB.', schema: positiveInt },
  { key: 'queryMaxConcurrency', env: 'SCALER_QUERY_MAX_CONCURRENCY', flag: '--query-max-concurrency', default: '4', description: 'Most queries of each lane (API, KEDA triggers) evaluating at once; more wait their turn within --query-timeout. KEDA\'s triggers never wait behind API queries.', schema: positiveInt },
  { key: 'connectionIdleMs', env: 'SCALER_CONNECTION_IDLE', flag: '--connection-idle', default: '2m', description: 'An HTTP/2 connection (gRPC, or OTLP/HTTP over h2c) with no call open this long is closed with GOAWAY (clients reconnect on their next call); also frees connections abandoned mid-frame.', schema: duration },
  { key: 'maxConnectionsPerAddress', env: 'SCALER_MAX_CONNECTIONS_PER_ADDRESS', flag: '--max-connections-per-address', default: '512', description: 'Most connections one peer address may hold open on each port (of 8192 a port); past it its new connections are closed at once, so one peer cannot lock KEDA out.', schema: positiveInt },
  { key: 'headerTimeoutMs', env: 'SCALER_HEADER_TIMEOUT', flag: '--header-timeout', default: '10s', description: 'A new connection must complete its TLS handshake and send its first request\'s headers (HTTP/2: preface and first HEADERS) within this; an HTTP/1.1 request its headers. Otherwise it is closed (408 where HTTP/1.1).', schema: duration },
  { key: 'requestTimeoutMs', env: 'SCALER_REQUEST_TIMEOUT', flag: '--request-timeout', default: '1m', description: 'An HTTP request (headers and body), or a gRPC call\'s request message, must arrive whole within this, or it is answered 408 and its connection closed (gRPC: DEADLINE_EXCEEDED).', schema: duration },
  { key: 'dataDir', env: 'SCALER_DATA_DIR', flag: '--data-dir', default: undefined, description: 'Directory the store is snapshotted to and restored from at start; empty keeps everything in memory only.', schema: optionalPath },
  { key: 'wal', env: 'SCALER_WAL', flag: '--wal', default: 'false', description: 'Also log every request body to the data dir before it is answered, stored again at start on top of the snapshot, so a crash of the process loses nothing acknowledged (not only a graceful restart). Needs --data-dir.', schema: bool },
  { key: 'snapshotIntervalMs', env: 'SCALER_SNAPSHOT_INTERVAL', flag: '--snapshot-interval', default: '30s', description: 'How often the store is snapshotted to the data dir (also at shutdown); a crash loses at most this much.', schema: positiveDuration },
  { key: 'peers', env: 'SCALER_PEERS', flag: '--peers', default: '', description: 'The other replicas, comma-separated: host, host:grpcPort or host:grpcPort:httpPort (ports left out are this process\'s own). Every request received is forwarded to each; a starting replica catches up from one.', schema: peerList },
  { key: 'peersDns', env: 'SCALER_PEERS_DNS', flag: '--peers-dns', default: '', description: 'A DNS name whose addresses are every replica (the chart\'s headless Service), resolved again every 10s; they use this process\'s ports. Adds to --peers.', schema: z.string() },
  { key: 'advertiseAddress', env: 'SCALER_ADVERTISE_ADDRESS', flag: '--advertise-address', default: '', description: 'This replica\'s address as its peers reach it (the pod IP): skipped among the peers, and how peers know it when it catches up. Empty: the addresses of this host\'s interfaces, and the address peers see it connect from.', schema: z.string() },
  { key: 'peerQueueBytes', env: 'SCALER_PEER_QUEUE_BYTES', flag: '--peer-queue-bytes', default: '32MiB', description: 'Most request bytes waiting to be forwarded to one peer; past it, requests for that peer are dropped (counted and logged), never delaying the sender\'s answer.', schema: bytes },
  { key: 'nameTranslation', env: 'SCALER_NAME_TRANSLATION', flag: '--name-translation', default: 'UnderscoreEscapingWithSuffixes', description: 'OTLP metric/label name translation strategy, as Prometheus\'s otlp.translation_strategy.', schema: z.enum(NAME_TRANSLATION_STRATEGIES) },
  { key: 'promoteResourceAttributes', env: 'SCALER_PROMOTE_RESOURCE_ATTRIBUTES', flag: '--promote-resource-attributes', default: '*', description: 'Resource attributes promoted to labels: "*" for all, a comma-separated list, or "" for none.', schema: z.string() },
  { key: 'exponentialHistograms', env: 'SCALER_EXPONENTIAL_HISTOGRAMS', flag: '--exponential-histograms', default: 'native', description: 'OTLP exponential histograms become one native histogram series each, as Prometheus stores them (native), or classic _bucket{le} series at every bucket boundary with _count and _sum (classic).', schema: z.enum(['native', 'classic']) },
  { key: 'answerMaxAgeMs', env: 'SCALER_ANSWER_MAX_AGE', flag: '--answer-max-age', default: '2s', description: 'KEDA\'s calls (GetMetrics, IsActive) are answered from the trigger\'s latest evaluation while it is younger than this, so a call does not wait for the query to run again behind ingest; triggers KEDA keeps asking about are evaluated again as samples arrive. 0: every call evaluates.', schema: duration },
  { key: 'lazySeries', env: 'SCALER_LAZY_SERIES', flag: '--lazy-series', default: 'false', description: 'Keep only metrics that some trigger\'s query names.', schema: bool },
  { key: 'errIfNotFound', env: 'SCALER_ERR_IF_NOT_FOUND', flag: '--err-if-not-found', default: 'false', description: 'A query that finds nothing answers UNAVAILABLE (KEDA\'s fallback applies) instead of valueIfNotFound, for triggers whose metadata does not say (errorIfNotFound / errIfNotFound).', schema: bool },
  { key: 'logLevel', env: 'SCALER_LOG_LEVEL', flag: '--log-level', default: 'info', description: 'trace, debug, info, warn, error or fatal.', schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) },
  { key: 'logFormat', env: 'SCALER_LOG_FORMAT', flag: '--log-format', default: 'json', description: 'json, or pretty for humans (needs pino-pretty).', schema: z.enum(['json', 'pretty']) },
  { key: 'tlsCertFile', env: 'SCALER_TLS_CERT_FILE', flag: '--tls-cert-file', default: undefined, description: 'PEM server certificate; with a key, every port serves TLS. Reloaded when it changes.', schema: optionalPath },
  { key: 'tlsKeyFile', env: 'SCALER_TLS_KEY_FILE', flag: '--tls-key-file', default: undefined, description: 'PEM private key for the server certificate.', schema: optionalPath },
  { key: 'tlsCaFile', env: 'SCALER_TLS_CA_FILE', flag: '--tls-ca-file', default: undefined, description: 'PEM CA bundle; when set, clients must present a certificate it signed (mTLS).', schema: optionalPath },
] as const satisfies readonly SettingSpec[];

type SettingOf<K extends string> = Extract<(typeof SETTINGS)[number], { key: K }>;
export type Config = {
  [K in (typeof SETTINGS)[number]['key']]: z.output<SettingOf<K>['schema']>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads settings with precedence CLI flag > environment variable > default.
 * Throws ConfigError naming the bad setting and where its value came from.
 */
export function loadConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  const fromFlags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new ConfigError(usage());
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const spec = SETTINGS.find((s) => s.flag === flag);
    if (!spec) throw new ConfigError(`unknown flag ${flag}\n\n${usage()}`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) value = argv[++i];
    else if (spec.schema === bool) value = 'true';
    if (value === undefined) throw new ConfigError(`flag ${flag} needs a value`);
    fromFlags.set(spec.key, value);
  }

  const out: Record<string, unknown> = {};
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const flagValue = fromFlags.get(spec.key);
    const envValue = env[spec.env];
    const raw = flagValue ?? envValue ?? spec.default;
    const source = flagValue !== undefined ? spec.flag : envValue !== undefined ? spec.env : 'default';
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join('; ');
      throw new ConfigError(`invalid setting ${spec.key} (${source}=${JSON.stringify(raw)}): ${why}`);
    }
    out[spec.key] = parsed.data;
  }
  const config = out as Config;
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new ConfigError('invalid setting tlsCertFile/tlsKeyFile: both must be set, or neither');
  }
  // A request at both size limits holds its body and its inflated form, each as pieces and joined.
  const largestRequest = 2 * (config.maxRequestBytes + config.maxDecompressedBytes);
  if (config.maxInflightBytes < largestRequest) {
    throw new ConfigError(
      `invalid setting maxInflightBytes (${config.maxInflightBytes}): it must hold one request at the size limits, 2 × (maxRequestBytes + maxDecompressedBytes) = ${largestRequest} bytes`,
    );
  }
  if (config.wal && config.dataDir === undefined) {
    throw new ConfigError('invalid setting wal: the write-ahead log is kept in the data dir (dataDir)');
  }
  if (config.tlsCaFile !== undefined && config.tlsCertFile === undefined) {
    throw new ConfigError('invalid setting tlsCaFile: client certificates need a server certificate (tlsCertFile, tlsKeyFile)');
  }
  return config;
}

/** The defaults alone, for tests and embedding; overrides are already-typed values. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig([], {}), ...overrides };
}

export function usage(): string {
  const lines = ['Usage: keda-otlp-scaler [flags]', '', 'Every flag has an environment variable; flags win.', ''];
  for (const s of SETTINGS as readonly SettingSpec[]) {
    lines.push(`  ${s.flag} (${s.env}, default ${JSON.stringify(s.default ?? '')})`, `      ${s.description}`);
  }
  return lines.join('\n');
}

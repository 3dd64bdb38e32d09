import { Session } from 'node:inspector/promises';
import pino from 'pino';
import { defaultConfig } from '../../src/config.js';
import { DecodePool } from '../../src/otlp/decode/pool.js';
import { OtlpReceiver } from '../../src/otlp/receiver.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { AppChild } from '../app/child.js';
import { sendSteps } from '../clients/otlp.js';
import type { DataSet } from './dataset.js';
import { encodeAll } from './encode.js';
import { ingestInproc, type InprocResult } from './ingest-inproc.js';
import { APP_CONFIG, timedIngest, type NetworkIngest } from './per-size.js';

/** Decoding threads the section compares: the event loop alone, and two workers. */
const THREAD_COUNTS = [0, 2] as const;

/** Where time or memory went: a function (file:name) and its share. */
export interface ProfileLine {
  where: string;
  share: number;
}

export interface IngestResult {
  /** `ingestNow` on this thread: decode, translate, append, no pauses (the old in-process figure). */
  inproc: InprocResult;
  /** `ingest` as the transports call it (sliced, one body stored at a time), by decoding threads. */
  inprocAsync: { threads: number; pps: number }[];
  /** Bytes allocated a point by `ingestNow` in the steady state, and the functions that allocate most. */
  bytesPerPoint: number;
  allocation: ProfileLine[];
  /** Self time of `ingestNow` in the steady state, by function, and the share of GC. */
  cpu: ProfileLine[];
  /** A scaler process over gRPC and OTLP/HTTP, by decoding threads. */
  network: { transport: 'grpc' | 'http'; threads: number; result: NetworkIngest }[];
}

const quiet = pino({ level: 'silent' });
/** `ingestNow` decodes on the caller's thread: no workers to start, whatever the cores. */
const ON_THIS_THREAD = defaultConfig({ ...APP_CONFIG, ingestThreads: 0 });

function freshStore(): Tsdb {
  const c = defaultConfig(APP_CONFIG);
  return new Tsdb({ retentionMs: c.retentionMs, maxSeries: c.maxSeries, maxSamplesPerSeries: c.maxSamplesPerSeries, outOfOrderWindowMs: c.outOfOrderWindowMs });
}

/**
 * Points/s of `receiver.ingest` over the steps after the first, `concurrency` requests in flight,
 * median of the rounds. The decoding workers are started once and warmed by a round that is not
 * counted, as a running scaler's are: started fresh each round, their module loading and JIT
 * warm-up were most of their time.
 */
async function inprocAsync(steps: Buffer[][], pointsPerStep: number, rounds: number, threads: number, concurrency: number): Promise<number> {
  const pool = threads > 0 ? new DecodePool(threads, quiet) : undefined;
  const results: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const receiver = new OtlpReceiver(freshStore(), defaultConfig({ ...APP_CONFIG, ingestThreads: 0 }), quiet, pool);
    const send = async (body: Buffer) => {
      const response = await receiver.ingest(body, 'protobuf', 'grpc');
      if (response.partialSuccess) throw new Error(`in-process ingest refused points: ${response.partialSuccess.errorMessage}`);
    };
    await sendSteps(steps.slice(0, 1), concurrency, send);
    const t0 = performance.now();
    await sendSteps(steps.slice(1), concurrency, send);
    if (r > 0) results.push(((steps.length - 1) * pointsPerStep) / ((performance.now() - t0) / 1000));
  }
  await pool?.close();
  return results.sort((a, b) => a - b)[Math.floor(results.length / 2)]!;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize?: number;
  hitCount?: number;
  children?: (ProfileNode | number)[];
}

function where(node: ProfileNode): string {
  const file = node.callFrame.url.split('/').pop() ?? '';
  return `${file}:${node.callFrame.functionName || '(anonymous)'}`;
}

/** The largest shares of `weight` by function, and the total. */
function top(nodes: ProfileNode[], weight: (n: ProfileNode) => number, count: number): { total: number; lines: ProfileLine[] } {
  const by = new Map<string, number>();
  let total = 0;
  for (const n of nodes) {
    const w = weight(n);
    total += w;
    by.set(where(n), (by.get(where(n)) ?? 0) + w);
  }
  const lines = [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([w, v]) => ({ where: w, share: v / total }));
  return { total, lines };
}

function flatten(root: ProfileNode): ProfileNode[] {
  const out: ProfileNode[] = [];
  const walk = (n: ProfileNode) => {
    out.push(n);
    for (const c of n.children ?? []) if (typeof c !== 'number') walk(c);
  };
  walk(root);
  return out;
}

/** One steady-state pass of `ingestNow` over the steps after the first, under the sampling heap profiler and the CPU profiler. */
async function profiles(steps: Buffer[][], pointsPerStep: number): Promise<Pick<IngestResult, 'bytesPerPoint' | 'allocation' | 'cpu'>> {
  const session = new Session();
  session.connect();
  const receiver = new OtlpReceiver(freshStore(), ON_THIS_THREAD, quiet);
  const ingestAll = (from: number) => {
    for (let s = from; s < steps.length; s++) for (const body of steps[s]!) receiver.ingestNow(body, 'protobuf', 'grpc');
  };
  ingestAll(0);
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  ingestAll(1);
  const heap = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  // Again into a fresh store, under the CPU profiler.
  const cpuReceiver = new OtlpReceiver(freshStore(), ON_THIS_THREAD, quiet);
  for (const body of steps[0]!) cpuReceiver.ingestNow(body, 'protobuf', 'grpc');
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  for (let s = 1; s < steps.length; s++) for (const body of steps[s]!) cpuReceiver.ingestNow(body, 'protobuf', 'grpc');
  const cpu = (await session.post('Profiler.stop')) as unknown as { profile: { nodes: ProfileNode[] } };
  session.disconnect();
  const points = (steps.length - 1) * pointsPerStep;
  const allocated = top(flatten(heap.profile.head), (n) => n.selfSize ?? 0, 8);
  const samples = top(
    cpu.profile.nodes.filter((n) => n.callFrame.functionName !== '(idle)' && n.callFrame.functionName !== '(program)'),
    (n) => n.hitCount ?? 0,
    12,
  );
  return { bytesPerPoint: allocated.total / points, allocation: allocated.lines, cpu: samples.lines };
}

/** `--only ingest`: in process with and without decoding threads, the allocation and CPU profiles, and a scaler process over gRPC and HTTP. */
export async function ingestBench(data: DataSet, batch: number, concurrency: number, rounds: number, log: (msg: string) => void): Promise<IngestResult> {
  const steps = encodeAll(data, batch);
  const n = data.series.length;
  log(`in process, ingestNow, ${rounds} rounds`);
  const inproc = ingestInproc(steps, n, rounds);
  const async: IngestResult['inprocAsync'] = [];
  for (const threads of THREAD_COUNTS) {
    log(`in process, ingest with ${threads} decoding threads, ${rounds} rounds`);
    async.push({ threads, pps: await inprocAsync(steps, n, rounds, threads, concurrency) });
  }
  log('allocation and CPU profiles of ingestNow');
  const p = await profiles(steps, n);
  const network: IngestResult['network'] = [];
  for (const threads of THREAD_COUNTS) {
    for (const transport of ['grpc', 'http'] as const) {
      log(`${transport} ingest into a scaler process with ${threads} decoding threads`);
      const app = await AppChild.start({ ...APP_CONFIG, ingestThreads: threads });
      try {
        network.push({ transport, threads, result: await timedIngest(app, steps, n * steps.length, transport, concurrency) });
      } finally {
        await app.stop();
      }
    }
  }
  return { inproc, inprocAsync: async, ...p, network };
}

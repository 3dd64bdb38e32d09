import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Snapshots } from '../../src/persist/snapshots.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { latency, type Latency } from './stats.js';

export interface SnapshotResult {
  series: number;
  samplesPerSeries: number;
  /** Creating the same store by appends, for comparison with the load. */
  fillMs: number;
  writeMs: number;
  /** CPU time of the write and the load (user + system): the wall times include waiting for a shared machine's cores. */
  writeCpuMs: number;
  bytes: number;
  loadMs: number;
  loadCpuMs: number;
  /** Gaps between turns of a probe that runs on every turn of the event loop, while the write runs. */
  loopPauseMs: Latency;
  /** Probe gaps over 10 ms: on a quiet machine, none; on a shared one, the other processes' time slices too. */
  loopPausesOver10Ms: number;
  /** The same probe for as long again with nothing running: what the machine alone does to it. */
  idlePauseMaxMs: number;
  idlePausesOver10Ms: number;
}

const SETTINGS = { nameTranslation: 'UnderscoreEscapingWithSuffixes', promoteResourceAttributes: '*' };
const STEP_MS = 10_000;

/** A collector-like store: 10 metrics a pod, counters stepping by whole numbers, pushes every 10 s with a little jitter. */
function fill(tsdb: Tsdb, series: number, samples: number, nowMs: number): void {
  const start = nowMs - samples * STEP_MS;
  for (let s = 0; s < series; s++) {
    const pod = Math.floor(s / 10);
    const labels = labelsFromRecord({
      __name__: `otelcol_metric_${s % 10}_total`,
      job: 'otel/gateway-collector',
      instance: `gateway-collector-7f9c${pod.toString(36).padStart(5, '0')}`,
      k8s_namespace_name: 'otel',
      k8s_pod_name: `gateway-collector-7f9c${pod.toString(36).padStart(5, '0')}`,
      receiver: 'otlp',
      transport: 'grpc',
    });
    const series_ = tsdb.getOrCreate(labels)!;
    let v = s;
    for (let i = 0; i < samples; i++) {
      v += (s * 7 + i * 13) % 50;
      tsdb.append(series_, start + i * STEP_MS + ((s + i * 31) % 40), v, false, start - 60_000);
    }
  }
}

function over10(gaps: number[]): number {
  return gaps.filter((g) => g > 10).length;
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/** The longest stretches the event loop was held while `work` ran, measured by a probe rescheduled on every turn. */
async function probeLoop(work: () => Promise<void>): Promise<number[]> {
  const gaps: number[] = [];
  let last = performance.now();
  let running = true;
  const probe = () => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  await work();
  running = false;
  return gaps;
}

/** Snapshot write (sliced, as the periodic write runs), size and load at `series` × `samples`. */
export async function snapshotBench(series: number, samples: number): Promise<SnapshotResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-snapshot-'));
  try {
    const nowMs = Date.now();
    const log = pino({ level: 'silent' });
    const options = { dir, intervalMs: 3_600_000, retentionMs: 2 * samples * STEP_MS, now: () => nowMs };
    let tsdb: Tsdb | undefined = new Tsdb({ retentionMs: options.retentionMs, maxSamplesPerSeries: 720, now: () => nowMs });
    const t0 = performance.now();
    fill(tsdb, series, samples, nowMs);
    const fillMs = performance.now() - t0;
    let writer: Snapshots | undefined = new Snapshots({ tsdb, settings: SETTINGS }, options, log);
    await writer.load();
    // Pauses of the collector for the garbage the fill left are not the write's.
    global.gc?.();
    let writeMs = 0;
    let writeCpuMs = 0;
    const gaps = await probeLoop(async () => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await writer!.write();
      writeMs = performance.now() - t0;
      writeCpuMs = cpuMs(process.cpuUsage(cpu0));
    });
    const idle = await probeLoop(() => new Promise((resolve) => setTimeout(resolve, writeMs)));
    if (writer.stats.failures > 0) throw new Error('the benchmark snapshot write failed');
    const bytes = statSync(join(dir, 'snapshot')).size;

    // The load runs at start, in a process that holds nothing else.
    tsdb = undefined;
    writer = undefined;
    global.gc?.();
    const restored = new Tsdb({ retentionMs: options.retentionMs, maxSamplesPerSeries: 720, now: () => nowMs });
    const t1 = performance.now();
    const cpu1 = process.cpuUsage();
    await new Snapshots({ tsdb: restored, settings: SETTINGS }, options, log).load();
    const loadMs = performance.now() - t1;
    const loadCpuMs = cpuMs(process.cpuUsage(cpu1));
    if (restored.seriesCount !== series) throw new Error(`the benchmark snapshot restored ${restored.seriesCount} of ${series} series`);
    return {
      series,
      samplesPerSeries: samples,
      fillMs,
      writeMs,
      writeCpuMs,
      bytes,
      loadMs,
      loadCpuMs,
      loopPauseMs: latency(gaps),
      loopPausesOver10Ms: over10(gaps),
      idlePauseMaxMs: latency(idle).max,
      idlePausesOver10Ms: over10(idle),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

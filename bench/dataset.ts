import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** One series of the shared data set, as lib/series.mjs describes it. */
export interface DataSeries {
  kind: 'counter' | 'gauge' | 'bucket';
  pod: number;
  slot: number;
  bucket?: number;
  labels: { name: string; value: string }[];
}

interface SeriesModule {
  SERIES_PER_POD: number;
  buildSeries(n: number): DataSeries[];
  makeValueGenerator(series: DataSeries[]): (step: number) => Float64Array;
}

/** The data set both engines ingest: N series, STEPS samples each, INTERVAL_MS apart, the last at `endMs`. */
export interface DataSet {
  series: DataSeries[];
  /** values[step][k]: the value of series k at that step. */
  values: Float64Array[];
  endMs: number;
  timeAt(step: number): number;
}

export const STEPS = 30;
export const INTERVAL_MS = 10_000;

/**
 * The peer harness's generator is imported at run time rather than copied, so both sides are fed
 * from one definition of the data and cannot drift apart.
 */
export async function loadDataSet(peerDir: string, n: number, endMs = Math.floor(Date.now() / 1000) * 1000): Promise<DataSet> {
  const mod = (await import(pathToFileURL(join(peerDir, 'lib', 'series.mjs')).href)) as SeriesModule;
  if (n % mod.SERIES_PER_POD !== 0) throw new Error(`series count ${n} is not a multiple of ${mod.SERIES_PER_POD}`);
  const series = mod.buildSeries(n);
  const next = mod.makeValueGenerator(series);
  const values: Float64Array[] = [];
  for (let step = 0; step < STEPS; step++) values.push(Float64Array.from(next(step)));
  return { series, values, endMs, timeAt: (step) => endMs - (STEPS - 1 - step) * INTERVAL_MS };
}

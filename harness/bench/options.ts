import { parseArgs } from 'node:util';
import { STEPS } from './dataset.js';

export interface BenchOptions {
  json: boolean;
  peer: boolean;
  sizes: number[];
  /** Samples a series in the size runs (memory and queries), ours and the peer's. */
  steps: number;
  ingestSeries: number;
  batch: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  runs: number;
  loadSeconds: number;
  activationRounds: number;
  snapshotSeries: number;
  promBin: string;
  /** Run one section only (replication, load, beside-queries, ...), for figures that need no others. */
  only: AloneSection | undefined;
}

export const USAGE = `usage: npm run bench -- [--json] [--peer] [--sizes 1000,10000,100000] [--steps 30] [--ingest-series 10000]
  [--batch 2000] [--concurrency 4] [--rounds 5] [--warmup 5] [--runs 50] [--load-seconds 10]
  [--activation-rounds 50] [--snapshot-series 100000] [--prom-bin prometheus] [--only replication|load|beside-queries|snapshot|wal|memory|histograms|ingest]`;

/** Sections that need no others, for `--only`. */
export const ALONE = ['replication', 'load', 'beside-queries', 'snapshot', 'wal', 'memory', 'histograms', 'ingest'] as const;
export type AloneSection = (typeof ALONE)[number];

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(text)}\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      peer: { type: 'boolean', default: false },
      sizes: { type: 'string', default: '1000,10000,100000' },
      steps: { type: 'string', default: String(STEPS) },
      'ingest-series': { type: 'string', default: '10000' },
      batch: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '5' },
      runs: { type: 'string', default: '50' },
      'load-seconds': { type: 'string', default: '10' },
      'activation-rounds': { type: 'string', default: '50' },
      'snapshot-series': { type: 'string', default: '100000' },
      'prom-bin': { type: 'string', default: 'prometheus' },
      only: { type: 'string' },
    },
  });
  const sizes = values.sizes.split(',').map((s) => positive('sizes', s.trim()));
  for (const n of sizes) if (n % 10 !== 0) throw new Error(`--sizes: ${n} is not a multiple of 10 (the data set has 10 series a pod)`);
  if (values.only !== undefined && !(ALONE as readonly string[]).includes(values.only))
    throw new Error(`--only: the sections that run alone are ${ALONE.join(', ')}\n${USAGE}`);
  const ingestSeries = positive('ingest-series', values['ingest-series']);
  if (ingestSeries % 10 !== 0) throw new Error(`--ingest-series: ${ingestSeries} is not a multiple of 10`);
  return {
    json: values.json,
    peer: values.peer,
    sizes,
    steps: positive('steps', values.steps),
    ingestSeries,
    batch: positive('batch', values.batch),
    concurrency: positive('concurrency', values.concurrency),
    rounds: positive('rounds', values.rounds),
    warmup: positive('warmup', values.warmup),
    runs: positive('runs', values.runs),
    loadSeconds: positive('load-seconds', values['load-seconds']),
    activationRounds: positive('activation-rounds', values['activation-rounds']),
    snapshotSeries: positive('snapshot-series', values['snapshot-series']),
    promBin: values['prom-bin'],
    only: values.only as AloneSection | undefined,
  };
}

import { beforeAll } from 'vitest';
import type { Config } from '../../src/config.js';
import type { App } from '../../src/server/app.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { useTestApp } from '../support/app.js';

/** A Prometheus API answer, as clients read it. */
export interface ApiBody {
  status: 'success' | 'error';
  data?: any;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

export interface ApiResponse {
  status: number;
  contentType: string | null;
  body: ApiBody;
}

export type Params = Record<string, string | string[]>;

function form(params: Params): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  return out;
}

export function baseUrl(app: App): string {
  return `http://127.0.0.1:${app.ports.http}`;
}

async function read(res: Response): Promise<ApiResponse> {
  return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as ApiBody };
}

export async function apiGet(app: App, path: string, params: Params = {}): Promise<ApiResponse> {
  const query = form(params).toString();
  return read(await fetch(`${baseUrl(app)}${path}${query ? `?${query}` : ''}`));
}

/** A form-encoded POST, as Grafana and promtool send queries. */
export async function apiPost(app: App, path: string, params: Params = {}): Promise<ApiResponse> {
  return read(
    await fetch(`${baseUrl(app)}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(params),
    }),
  );
}

export const STEP_MS = 15_000;
export const POINTS = 20;

/**
 * A small fixed data set written straight into the app's TSDB, ending at `endMs` (a whole
 * second): two queue gauges, one counter, and the gauge's metadata.
 */
export function seed(app: App, endMs: number): void {
  for (let i = 0; i < POINTS; i++) {
    const t = endMs - (POINTS - 1 - i) * STEP_MS;
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'queue_size', job: 'a', instance: 'x' }), t, i * 1.5);
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'queue_size', job: 'b', instance: 'y' }), t, 100 - i);
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'requests_total', job: 'a', code: '200' }), t, i * 10);
  }
  app.tsdb.setMetadata('queue_size', { type: 'gauge', unit: '', help: 'Batches waiting to be sent.' });
  app.tsdb.setMetadata('requests_total', { type: 'counter', unit: '', help: 'Requests served.' });
}

/** Now, rounded down to a whole second, so float-second timestamps round-trip exactly. */
export function wholeSecondNow(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

/**
 * A test app for the describe block this is called in (see useTestApp), holding the seed data
 * ending at `end`: now, as a whole second, when the block is collected.
 */
export function useSeededApp(overrides: Partial<Config> = {}): { app: App; end: number } {
  const app = useTestApp(overrides);
  const end = wholeSecondNow();
  beforeAll(() => seed(app, end));
  return { app, end };
}

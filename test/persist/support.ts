import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { afterAll } from 'vitest';
import { encodeRequest } from '../../harness/clients/otlp.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/** A function giving a fresh temporary directory a call; all of them are removed after the file's tests. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
}

export interface Logged {
  level: number;
  msg: string;
  reason?: string;
  movedTo?: string;
  [field: string]: unknown;
}

/** A debug logger whose lines are kept, parsed, for the test to read. */
export function capturedLog(): { log: Logger; lines: Logged[] } {
  const lines: Logged[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as Logged) }), lines };
}

export function nanos(ms: number): string {
  return `${ms}000000`;
}

export function attrs(rec: Record<string, string>): object[] {
  return Object.entries(rec).map(([key, v]) => ({ key, value: { string_value: v } }));
}

/** One OTLP request of `metrics` from one service, as protobuf. */
export function request(metrics: object[], service = 'persist'): Buffer {
  return encodeRequest({
    resource_metrics: [{ resource: { attributes: attrs({ 'service.name': service, 'service.instance.id': 'pod-1' }) }, scope_metrics: [{ metrics }] }],
  });
}

export async function post(port: number, body: Buffer): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
  if (res.status !== 200) throw new Error(`POST /v1/metrics answered ${res.status}: ${await res.text()}`);
  return res.arrayBuffer();
}

export async function apiGet(port: number, path: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return res.json();
}

export function queryRange(port: number, query: string, startMs: number, endMs: number, stepS: number): Promise<any> {
  const q = new URLSearchParams({ query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepS) });
  return apiGet(port, `/api/v1/query_range?${q}`);
}

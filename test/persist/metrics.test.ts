import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { tempDir } from './support.js';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

describe('snapshot self-metrics', () => {
  const dir = tempDir('persist-metrics');
  let app: App | undefined;
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the last write on /metrics', async () => {
    app = await startTestApp({ dataDir: dir, snapshotIntervalMs: 3_600_000 });
    app.tsdb.appendLabels(['__name__', 'up'], Date.now(), 1);
    const before = Date.now() / 1000;
    await app.snapshots!.write();
    const text = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
    expect(metric(text, 'keda_otlp_scaler_snapshot_writes_total')).toBe(1);
    expect(metric(text, 'keda_otlp_scaler_snapshot_write_failures_total')).toBe(0);
    expect(metric(text, 'keda_otlp_scaler_snapshot_last_write_bytes')).toBeGreaterThan(24);
    expect(metric(text, 'keda_otlp_scaler_snapshot_last_write_duration_seconds')).toBeGreaterThan(0);
    expect(metric(text, 'keda_otlp_scaler_snapshot_last_write_timestamp_seconds')).toBeGreaterThanOrEqual(Math.floor(before));
  });

  it('has no snapshot metrics without a data dir', async () => {
    const plain = await startTestApp();
    try {
      const text = await (await fetch(`http://127.0.0.1:${plain.ports.http}/metrics`)).text();
      expect(text).not.toContain('snapshot');
    } finally {
      await plain.close();
    }
  });
});

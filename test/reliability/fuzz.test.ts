import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { formatFuzzReport, runFuzz, type FuzzReport } from '../../harness/fuzz/run.js';
import { startTestApp } from '../support/app.js';

const LIMITS = { maxRequestBytes: 256 * 1024, maxDecompressedBytes: 1024 * 1024 };

describe('fuzzing every port with hostile input (2,000 cases, fixed seed)', () => {
  let app: App;
  let report: FuzzReport;
  beforeAll(async () => {
    // Hostile queries (a year of subquery steps) are cut at 1s, so the run gets through every case.
    app = await startTestApp({ ...LIMITS, retentionMs: 3_600_000, connectionIdleMs: 2_000, queryTimeoutMs: 1_000 });
    report = await runFuzz({
      host: '127.0.0.1',
      ports: app.ports,
      limits: LIMITS,
      cases: 2_000,
      seconds: 25,
      seed: 20240609,
      timeoutMs: 15_000,
      concurrency: 8,
    });
  });
  afterAll(() => app.close());

  it('sends every case', () => {
    expect(report.cases).toBe(2_000);
    expect(report.queries).toBeGreaterThan(400);
    // Many random queries are malformed; each of those refusals was checked for position and cause.
    expect(report.parseErrors).toBeGreaterThan(100);
  });

  it('gets only 2xx, 4xx, INVALID_ARGUMENT, RESOURCE_EXHAUSTED (and answers for queries): never 5xx, INTERNAL or a hang', () => {
    expect(report.faultExamples, formatFuzzReport(report)).toEqual([]);
    expect(report.hangs).toBe(0);
  });

  it('leaves every port alive and the data pushed before intact', () => {
    expect(report.alive).toEqual([]);
    expect(report.canaryAfter).toEqual(report.canaryBefore);
  });
});

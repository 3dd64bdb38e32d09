import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../support/keda-client.js';
import { apiGet, baseUrl, seed, wholeSecondNow } from './http.js';

const CHROMIUM = '/usr/bin/chromium';

interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
const OUTPUT = join(process.cwd(), 'test-output');

describe('the web page, served', () => {
  let app: App;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('serves the page with a CSP that allows no inline script, and its script and uPlot from this origin', async () => {
    const page = await fetch(`${baseUrl(app)}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).not.toMatch(/<script>(?!<\/script>)|<style>|\son[a-z]+="/);
    for (const [path, type] of [
      ['/app.js', 'text/javascript'],
      ['/style.css', 'text/css'],
      ['/assets/uplot.esm.js', 'text/javascript'],
      ['/assets/uplot.min.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${baseUrl(app)}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(new RegExp(`^${type}`));
      expect((await res.text()).length, path).toBeGreaterThan(100);
    }
    expect((await fetch(`${baseUrl(app)}/web/../package.json`)).status).toBe(404);
  });

  it('answers the page its ScaledObjects and metrics as JSON', async () => {
    const end = wholeSecondNow();
    seed(app, end);
    const keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    await keda.getMetrics({ name: 'worker', namespace: 'jobs', scalerMetadata: { metricQuery: 'max(queue_size)', targetValue: '10' } });
    keda.close();
    const status = await apiGet(app, '/api/v1/scaler/status');
    expect(status.body.data.retentionSeconds).toBe(600);
    expect(status.body.data.triggers).toEqual([
      expect.objectContaining({ namespace: 'jobs', name: 'worker', query: 'max(queue_size)', targetValue: 10, lastValue: '81', active: true, lastError: null }),
    ]);
    expect(status.body.data.triggers[0].lastCall).toBeGreaterThan(end / 1000 - 60);
    expect((await apiGet(app, '/api/v1/scaler/metrics')).body.data).toEqual([
      { name: 'queue_size', series: 2 },
      { name: 'requests_total', series: 1 },
    ]);
  });
});

const title = existsSync(CHROMIUM)
  ? 'the web page in Chromium'
  : `the web page in Chromium: SKIPPED, ${CHROMIUM} not found (apt-get install chromium)`;

describe.skipIf(!existsSync(CHROMIUM))(title, () => {
  let app: App;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    seed(app, wholeSecondNow());
    const keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    await keda.getMetrics({ name: 'checkout', namespace: 'shop', scalerMetadata: { metricQuery: 'sum(queue_size)', targetValue: '50' } });
    keda.close();
    profile = mkdtempSync(join(tmpdir(), 'scaler-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    await page.goto(`${baseUrl(app)}/`);
  });
  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await app.close();
  });

  it('loads, lists the metrics with their series counts, and the ScaledObject KEDA asked about', async () => {
    await expect.poll(() => page.locator('#metrics tbody tr').count()).toBe(2);
    const metrics = await page.locator('#metrics tbody tr').allInnerTexts();
    expect(metrics.map((r) => r.split('\t').map((c) => c.trim()))).toEqual([
      ['queue_size', '2'],
      ['requests_total', '1'],
    ]);
    const row = (await page.locator('#scaledobjects tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
    expect(row).toHaveLength(1);
    expect(row[0]!.slice(0, 7)).toEqual(['shop', 'checkout', 'sum(queue_size)', '50', '109.5', 'yes', '']);
    expect(row[0]![7]).not.toBe('—');
    expect(await page.locator('#so-empty').isHidden()).toBe(true);
  });

  it('draws the graph and the instant values of a query typed in the box', async () => {
    await page.fill('#query', 'queue_size');
    await page.press('#query', 'Enter');
    await page.waitForSelector('#graph canvas');
    expect(Number(await page.getAttribute('#graph', 'data-series'))).toBe(2);
    expect(Number(await page.getAttribute('#graph', 'data-points'))).toBeGreaterThan(20);
    // The plot is drawn on the canvas: count pixels that are not blank.
    const inked = await page.$eval('#graph canvas', (c) => {
      // The test's TypeScript has no DOM types; this is the part of HTMLCanvasElement used here.
      const canvas = c as unknown as Canvas;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    const instant = (await page.locator('#instant tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
    expect(instant).toEqual([
      ['queue_size{instance="x", job="a"}', '28.5'],
      ['queue_size{instance="y", job="b"}', '81'],
    ]);
    expect(new URL(page.url()).searchParams.get('q')).toBe('queue_size');
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'web-page.png'), fullPage: true });
  });

  it('queries a metric when its name is clicked in the list', async () => {
    await page.click('#metrics a:text-is("requests_total")');
    await expect.poll(() => page.inputValue('#query')).toBe('requests_total');
    await expect.poll(() => page.getAttribute('#graph', 'data-series')).toBe('1');
    expect(await page.locator('#instant tbody tr').allInnerTexts()).toEqual([expect.stringContaining('requests_total{code="200", job="a"}')]);
  });

  it('has run without script errors or blocked resources so far', () => {
    expect(problems).toEqual([]);
  });

  it('shows the API error for a query that does not parse, and no graph', async () => {
    await page.fill('#query', 'sum(');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('#query-error').innerText()).toContain('parse error: unclosed left parenthesis');
    expect(await page.locator('#graph canvas').count()).toBe(0);
  });
});

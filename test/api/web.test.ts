import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { FloatHistogram } from '../../src/tsdb/float-histogram.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { startTestApp, useTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';
import { apiGet, baseUrl, seed, wholeSecondNow } from './http.js';

const CHROMIUM = '/usr/bin/chromium';

interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
const OUTPUT = join(process.cwd(), 'test-output');

describe('the web page, served', () => {
  const app = useTestApp();

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
      expect.objectContaining({
        namespace: 'jobs',
        name: 'worker',
        query: 'max(queue_size)',
        targetValue: 10,
        lastValue: '81',
        desiredReplicas: 9,
        active: true,
        lastError: null,
      }),
    ]);
    expect(status.body.data.triggers[0].lastCall).toBeGreaterThan(end / 1000 - 60);
    expect((await apiGet(app, '/api/v1/scaler/metrics')).body.data).toEqual([
      { name: 'queue_size', series: 2 },
      { name: 'requests_total', series: 1 },
    ]);
  });
});

const title = existsSync(CHROMIUM) ? 'the web page in Chromium' : `the web page in Chromium: SKIPPED, ${CHROMIUM} not found (apt-get install chromium)`;

describe.skipIf(!existsSync(CHROMIUM))(title, () => {
  let app: App;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    const end = wholeSecondNow();
    seed(app, end);
    // Two pods reporting the same values over the last minute, and a ratio with a long fraction.
    for (let i = 0; i <= 12; i++) {
      const t = end - 60_000 + i * 5_000;
      for (const pod of ['a', 'b']) app.tsdb.appendLabels(labelsFromRecord({ __name__: 'pods_ready', pod }), t, 3 + (i % 2));
      app.tsdb.appendLabels(labelsFromRecord({ __name__: 'cache_miss_ratio' }), t, 0.18225000000000002);
    }
    const keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    await keda.getMetrics({ name: 'checkout', namespace: 'shop', scalerMetadata: { metricQuery: 'sum(queue_size)', targetValue: '50' } });
    await keda.getMetrics({
      name: 'cache',
      namespace: 'shop',
      scalerMetadata: { metricQuery: 'max(cache_miss_ratio)', targetValue: '0.05', activationTargetValue: '0.2' },
    });
    keda.close();
    profile = mkdtempSync(join(tmpdir(), 'scaler-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    await page.goto(`${baseUrl(app)}/`);
  });
  /** A full-page screenshot under test-output/, checked to be a PNG of the page's size with the graph on it. */
  async function checkedScreenshot(name: string): Promise<void> {
    mkdirSync(OUTPUT, { recursive: true });
    const path = join(OUTPUT, name);
    const png = await page.screenshot({ path, fullPage: true });
    expect(existsSync(path)).toBe(true);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1280);
    expect(png.length).toBeGreaterThan(20_000);
  }

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await app.close();
  });

  it('loads, lists the metrics with their series counts, and the ScaledObject KEDA asked about', async () => {
    await expect.poll(() => page.locator('#metrics tbody tr').count()).toBe(4);
    const metrics = await page.locator('#metrics tbody tr').allInnerTexts();
    expect(metrics.map((r) => r.split('\t').map((c) => c.trim()))).toEqual([
      ['cache_miss_ratio', '1'],
      ['pods_ready', '2'],
      ['queue_size', '2'],
      ['requests_total', '1'],
    ]);
    const rows = (await page.locator('#scaledobjects tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
    // Namespace, name, query, value, target, activation, active, replicas the HPA asks for, error.
    expect(rows.map((r) => r.slice(0, 9))).toEqual([
      ['shop', 'cache', 'max(cache_miss_ratio)', '0.18225', '0.05', '0.2', 'no', '4', ''],
      ['shop', 'checkout', 'sum(queue_size)', '109.5', '50', '0', 'yes', '3', ''],
    ]);
    expect(rows.every((r) => r[9] !== '—')).toBe(true);
    expect(await page.getAttribute('#scaledobjects tbody tr:first-child td:nth-child(4)', 'title')).toBe('0.18225000000000002');
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
    await checkedScreenshot('web-page.png');
  });

  it('spans by default the time that holds data, and the chosen range from the picker', async () => {
    await page.fill('#query', 'queue_size');
    await page.press('#query', 'Enter');
    await page.waitForSelector('#graph canvas');
    const span = async () => Number(await page.getAttribute('#graph', 'data-end')) - Number(await page.getAttribute('#graph', 'data-start'));
    // The data covers the last 285 s of a 600 s retention.
    expect(await span()).toBeGreaterThanOrEqual(285);
    expect(await span()).toBeLessThan(400);
    const choices = await page.locator('#range option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    expect(choices).toEqual(['auto', '300', 'all']);
    await page.selectOption('#range', 'all');
    await expect.poll(span).toBe(600);
    await page.selectOption('#range', '300');
    await expect.poll(span).toBe(300);
    await page.selectOption('#range', 'auto');
    await expect.poll(span).toBeLessThan(400);
  });

  it('labels both axes with round, readable values that do not overlap', async () => {
    await page.fill('#query', 'cache_miss_ratio');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.getAttribute('#graph', 'data-series')).toBe('1');
    await page.waitForSelector('#graph .tick.y');
    const boxes = await page.locator('#graph .tick').evaluateAll((nodes) =>
      nodes.map((n) => {
        const e = n as unknown as {
          className: string;
          textContent: string;
          getBoundingClientRect(): { left: number; right: number; top: number; bottom: number };
        };
        const r = e.getBoundingClientRect();
        return { axis: e.className.includes(' x') ? 'x' : 'y', text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      }),
    );
    const xs = boxes.filter((b) => b.axis === 'x');
    const ys = boxes.filter((b) => b.axis === 'y');
    expect(xs.length).toBeGreaterThanOrEqual(2);
    expect(ys.length).toBeGreaterThanOrEqual(2);
    for (const b of xs) expect(b.text).toMatch(/^\d\d:\d\d(:\d\d)?$/);
    // Time labels stay within the plot's width, where no value label can be, whatever the time of day.
    const plot = (await page.locator('#graph .u-over').boundingBox())!;
    for (const b of xs) expect(b.left >= plot.x - 0.5 && b.right <= plot.x + plot.width + 0.5, `x "${b.text}" inside the plot`).toBe(true);
    for (const b of ys) expect(b.text.length, b.text).toBeLessThanOrEqual(8);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        expect(overlap, `${a.axis} "${a.text}" and ${b.axis} "${b.text}"`).toBe(false);
      }
    }
    expect(await page.locator('#instant tbody td.num').innerText()).toBe('0.18225');
    expect(await page.locator('#legend .legend-entry').allInnerTexts()).toEqual([expect.stringMatching(/^cache_miss_ratio\s+0\.18225$/)]);
    await checkedScreenshot('web-axes.png');
  });

  it('tells series with equal values apart in the legend', async () => {
    await page.fill('#query', 'pods_ready');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.getAttribute('#graph', 'data-series')).toBe('2');
    const entries = await page.locator('#legend .legend-entry').allInnerTexts();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/^pods_ready\{pod="a"\}\s+[34]$/);
    expect(entries[1]).toMatch(/^pods_ready\{pod="b"\}\s+[34]\s+same values as pods_ready\{pod="a"\}/);
    const swatches = await page.locator('#legend .swatch').evaluateAll((nodes) =>
      nodes.map((n) => {
        const style = (n as unknown as { style: { borderTopColor: string; borderTopStyle: string } }).style;
        return `${style.borderTopColor} ${style.borderTopStyle}`;
      }),
    );
    expect(new Set(swatches).size).toBe(2);
    await checkedScreenshot('web-legend.png');
  });

  it('queries a metric when its name is clicked in the list', async () => {
    await page.click('#metrics a:text-is("requests_total")');
    await expect.poll(() => page.inputValue('#query')).toBe('requests_total');
    await expect.poll(() => page.getAttribute('#graph', 'data-series')).toBe('1');
    expect(await page.locator('#instant tbody tr').allInnerTexts()).toEqual([expect.stringContaining('requests_total{code="200", job="a"}')]);
  });

  it('plots native histograms as a chosen quantile, count or sum, and lists them by count and sum', async () => {
    const end = wholeSecondNow();
    const labels = labelsFromRecord({ __name__: 'request_seconds', job: 'api' });
    for (let i = 0; i <= 12; i++) {
      const h = new FloatHistogram({ count: 10 * i, sum: 5 * i, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [5 * i, 5 * i] });
      app.tsdb.appendHistogramLabels(labels, end - 60_000 + i * 5_000, h);
    }
    await page.fill('#query', 'rate(request_seconds[1m])');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.getAttribute('#graph', 'data-query')).toBe('histogram_quantile(0.99, rate(request_seconds[1m]))');
    expect(await page.locator('#histogram-view').isVisible()).toBe(true);
    expect(Number(await page.getAttribute('#graph', 'data-points'))).toBeGreaterThan(5);
    await page.fill('#query', 'request_seconds');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.getAttribute('#graph', 'data-query')).toBe('histogram_quantile(0.99, request_seconds)');
    const instant = (await page.locator('#instant tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
    expect(instant).toEqual([['request_seconds{job="api"}', 'count 120, sum 60']]);
    // Half the observations are in (1, 2]: the 99th percentile lies there.
    const last = async () => Number((await page.locator('#legend .legend-entry .num').innerText()).trim());
    expect(await last()).toBeGreaterThan(1);
    expect(await last()).toBeLessThanOrEqual(2);
    await checkedScreenshot('web-histograms.png');
    await page.selectOption('#histogram-stat', 'count');
    await expect.poll(() => page.getAttribute('#graph', 'data-query')).toBe('histogram_count(request_seconds)');
    expect(await page.locator('#histogram-quantile').isVisible()).toBe(false);
    await expect.poll(last).toBe(120);
    await page.selectOption('#histogram-stat', 'sum');
    await expect.poll(last).toBe(60);
    await page.selectOption('#histogram-stat', 'quantile');
    await page.fill('#histogram-quantile', '0.25');
    await page.dispatchEvent('#histogram-quantile', 'change');
    await expect.poll(() => page.getAttribute('#graph', 'data-query')).toBe('histogram_quantile(0.25, request_seconds)');
    expect(await last()).toBeLessThanOrEqual(1);
    // A query of numbers draws them as they are, without the histogram choice.
    await page.fill('#query', 'cache_miss_ratio');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.getAttribute('#graph', 'data-query')).toBe('cache_miss_ratio');
    expect(await page.locator('#histogram-view').isVisible()).toBe(false);
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

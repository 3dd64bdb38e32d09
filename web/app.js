// The page's only script: plain DOM, no framework, no inline code (the server's CSP forbids it).
import uPlot from '/assets/uplot.esm.js';

const REFRESH_MS = 5000;
const GRAPH_POINTS = 300;
const GRAPH_HEIGHT = 300;
const DEFAULT_WINDOW_S = 600;
/** Ranges the picker offers besides "where the data is" and the whole retention, in seconds. */
const RANGES = [
  [300, '5 minutes'],
  [900, '15 minutes'],
  [3600, '1 hour'],
  [6 * 3600, '6 hours'],
  [86400, '1 day'],
];
const COLORS = ['#2f6fde', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0b7285', '#a61e4d', '#5c940d', '#862e9c', '#d9480f'];
/** Dash patterns cycled with the colours, so series drawn on top of each other still show. */
const DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3]];
/** Smallest distance between time labels and between value labels, in CSS pixels. */
const X_LABEL_SPACING = 100;
const Y_LABEL_SPACING = 40;
const Y_AXIS_SIZE = 70;
const X_AXIS_SIZE = 28;
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

const $ = (id) => document.getElementById(id);
let retentionS = DEFAULT_WINDOW_S;
let plot;

/** A Prometheus API call as a form-encoded POST; resolves to `data`, rejects with the API's error text. */
async function api(path, params = {}) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  const body = await res.json();
  if (body.status !== 'success') throw new Error(body.error || `HTTP ${res.status}`);
  return body.data;
}

async function get(path) {
  const res = await fetch(path);
  const body = await res.json();
  if (body.status !== 'success') throw new Error(body.error || `HTTP ${res.status}`);
  return body.data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function seriesName(metric) {
  const { __name__: name = '', ...rest } = metric;
  const labels = Object.entries(rest).map(([k, v]) => `${k}="${v}"`);
  return labels.length ? `${name}{${labels.join(', ')}}` : name || '{}';
}

/**
 * A sample value rounded for reading: about six significant digits, never fewer integer digits
 * than the value has; the exact text stays in the cell's title.
 */
function fmtNum(text) {
  const v = Number(text);
  if (!Number.isFinite(v)) return String(text);
  const abs = Math.abs(v);
  if (abs !== 0 && abs < 1e-4) return v.toPrecision(4);
  const digits = abs === 0 ? 0 : Math.floor(Math.log10(abs));
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: Math.min(20, Math.max(0, 5 - digits)), useGrouping: false }).format(v);
}

function numCell(text) {
  return el('td', { class: 'num', title: String(text) }, fmtNum(text));
}

function showError(target, err) {
  target.textContent = err ? String(err.message || err) : '';
  target.hidden = !err;
}

function fmtTime(seconds) {
  return seconds === null ? '—' : new Date(seconds * 1000).toLocaleTimeString();
}

/** A native histogram sample for reading: its count and sum, rounded as numbers are. */
function histogramText(h) {
  return `count ${fmtNum(h.count)}, sum ${fmtNum(h.sum)}`;
}

/** The points of a range series, floats and native histograms alike, each as text. */
function pointTexts(s) {
  return [...(s.values ?? []).map((v) => v[1]), ...(s.histograms ?? []).map((v) => histogramText(v[1]))];
}

/** Whether a query's answer holds native histograms, which the graph cannot draw as they are. */
function hasHistograms(data) {
  if (data.resultType === 'vector') return data.result.some((s) => s.histogram !== undefined);
  if (data.resultType === 'matrix') return data.result.some((s) => s.histograms !== undefined);
  return false;
}

/**
 * What the graph draws for a query whose answer holds native histograms: a number taken from each
 * by the chosen function, so the plotted values are PromQL's own (floats in the answer drop out).
 */
function histogramQuery(query) {
  const stat = $('histogram-stat').value;
  if (stat !== 'quantile') return `histogram_${stat}(${query})`;
  const q = Number($('histogram-quantile').value);
  return `histogram_quantile(${Number.isFinite(q) ? q : 0.99}, ${query})`;
}

function renderInstant(data) {
  const table = $('instant');
  const body = table.tBodies[0];
  body.replaceChildren();
  // Each row: the series, its value's text, and whether that text is one number (rounded, exact in the title).
  let rows;
  if (data.resultType === 'vector')
    rows = data.result.map((s) =>
      s.histogram === undefined ? [seriesName(s.metric), s.value[1], true] : [seriesName(s.metric), histogramText(s.histogram[1]), false],
    );
  else if (data.resultType === 'matrix') rows = data.result.map((s) => [seriesName(s.metric), pointTexts(s).join(', '), false]);
  else rows = [[data.resultType, data.result[1], data.resultType === 'scalar']];
  for (const [name, value, number] of rows) {
    const cell = number ? numCell(value) : el('td', { class: 'num' }, value);
    body.append(el('tr', {}, el('td', {}, el('code', {}, name)), cell));
  }
  if (rows.length === 0) body.append(el('tr', {}, el('td', { colspan: '2', class: 'note' }, 'Empty result')));
  table.hidden = false;
}

/** One x axis for every series: the query's step grid, with gaps where a series has no point. */
function toColumns(result, start, end, step) {
  const n = Math.floor((end - start) / step) + 1;
  const xs = Array.from({ length: n }, (_, i) => start + i * step);
  const ys = result.map((s) => {
    const col = new Array(n).fill(null);
    for (const [t, v] of s.values) {
      const i = Math.round((t - start) / step);
      if (i >= 0 && i < n) col[i] = Number(v);
    }
    return col;
  });
  return [xs, ...ys];
}

/** Time ticks at a round step, at least X_LABEL_SPACING apart on a plot `width` pixels wide. */
function timeTicks(start, end, width) {
  const most = Math.max(2, Math.floor(width / X_LABEL_SPACING));
  const step = TIME_STEPS.find((s) => (end - start) / s < most) ?? Math.ceil((end - start) / most / 86400) * 86400;
  const ticks = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  return { ticks, step };
}

function fmtTick(t, step) {
  const d = new Date(t * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return step < 60 ? `${hm}:${pad(d.getSeconds())}` : hm;
}

/** A value axis on round numbers (1, 2, 2.5, 5 × 10^k) around [min, max], and its labels' decimals. */
function valueTicks(min, max, height) {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const most = Math.max(2, Math.floor(height / Y_LABEL_SPACING));
  const raw = (max - min) / most;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + (step / mag === 2.5 ? 1 : 0));
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks = [];
  for (let i = 0; lo + i * step <= hi + step / 2; i++) ticks.push(Number((lo + i * step).toFixed(decimals)));
  return { ticks, lo, hi, decimals };
}

/**
 * The axis labels as elements over the plot rather than text on its canvas: placed on ticks
 * chosen far enough apart, so they cannot overlap, and readable by tests and screen readers.
 */
function placeLabels(u, container, x, y) {
  container.querySelectorAll('.tick').forEach((n) => n.remove());
  const box = container.getBoundingClientRect();
  const over = u.over.getBoundingClientRect();
  for (const t of x.ticks) {
    const label = el('span', { class: 'tick x' }, fmtTick(t, x.step));
    label.style.left = `${over.left - box.left + u.valToPos(t, 'x')}px`;
    label.style.top = `${over.bottom - box.top + 4}px`;
    container.append(label);
    // A label centred on a tick near either end would reach under the value axis's labels.
    const r = label.getBoundingClientRect();
    if (r.left < over.left || r.right > over.right) label.remove();
  }
  for (const v of y.ticks) {
    // Large values in exponent form, so a label fits the axis.
    const label = el('span', { class: 'tick y' }, Math.abs(v) >= 1e6 ? v.toExponential() : v.toFixed(y.decimals));
    label.style.right = `${box.right - over.left + 6}px`;
    label.style.top = `${over.top - box.top + u.valToPos(v, 'y')}px`;
    container.append(label);
  }
}

/** One entry a series: its line's colour and dash, its name, its last value, and any series it coincides with. */
function renderLegend(result, columns) {
  const seen = new Map();
  $('legend').replaceChildren(
    ...result.map((s, i) => {
      const key = JSON.stringify(columns[i + 1]);
      const twin = seen.get(key);
      if (twin === undefined) seen.set(key, i);
      const swatch = el('span', { class: 'swatch' });
      swatch.style.borderTopColor = COLORS[i % COLORS.length];
      swatch.style.borderTopStyle = DASHES[i % DASHES.length].length ? 'dashed' : 'solid';
      const last = s.values.length ? s.values[s.values.length - 1][1] : undefined;
      return el(
        'li',
        { class: 'legend-entry' },
        swatch,
        el('code', {}, seriesName(s.metric)),
        last === undefined ? '' : el('span', { class: 'num', title: last }, fmtNum(last)),
        twin === undefined ? '' : el('span', { class: 'note' }, `same values as ${seriesName(result[twin].metric)}: drawn on top of it`),
      );
    }),
  );
}

function clearGraph() {
  plot?.destroy();
  plot = undefined;
  $('graph').replaceChildren();
  $('legend').replaceChildren();
}

function renderGraph(result, start, end, step) {
  const container = $('graph');
  clearGraph();
  const points = result.reduce((sum, s) => sum + s.values.length, 0);
  container.dataset.series = String(result.length);
  container.dataset.points = String(points);
  container.dataset.start = String(start);
  container.dataset.end = String(end);
  if (points === 0) return;
  const columns = toColumns(result, start, end, step);
  let min = Infinity;
  let max = -Infinity;
  for (const col of columns.slice(1)) {
    for (const v of col) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min > max) min = max = 0;
  const width = Math.max(320, container.clientWidth);
  const x = timeTicks(start, end, width - Y_AXIS_SIZE);
  const y = valueTicks(min, max, GRAPH_HEIGHT - X_AXIS_SIZE);
  const blank = (_u, splits) => splits.map(() => '');
  const opts = {
    width,
    height: GRAPH_HEIGHT,
    scales: { x: { time: false, range: () => [start, end] }, y: { range: () => [y.lo, y.hi] } },
    series: [
      {},
      ...result.map((s, i) => ({
        label: seriesName(s.metric),
        stroke: COLORS[i % COLORS.length],
        dash: DASHES[i % DASHES.length],
        width: 1.5,
        spanGaps: false,
        points: { show: false },
      })),
    ],
    axes: [
      { splits: () => x.ticks, values: blank, size: X_AXIS_SIZE },
      { splits: () => y.ticks, values: blank, size: Y_AXIS_SIZE },
    ],
    legend: { show: false },
    hooks: { draw: [(u) => placeLabels(u, container, x, y)] },
  };
  plot = new uPlot(opts, columns, container);
  renderLegend(result, columns);
}

function stepFor(span) {
  return Math.max(1, Math.ceil(span / GRAPH_POINTS));
}

/**
 * The graph's time range: the picker's choice, or by default from the query's first point in the
 * retention (found by a coarse look over all of it) to now, so a new series fills the graph.
 */
async function graphRange(query, end) {
  const choice = $('range').value;
  if (choice === 'all') return end - retentionS;
  if (choice !== 'auto') return end - Math.min(Number(choice), retentionS);
  const step = stepFor(retentionS);
  const data = await api('/api/v1/query_range', { query, start: String(end - retentionS), end: String(end), step: String(step) });
  const firsts = data.result.map((s) => Math.min(s.values?.[0]?.[0] ?? Infinity, s.histograms?.[0]?.[0] ?? Infinity)).filter(Number.isFinite);
  if (firsts.length === 0) return end - retentionS;
  const span = Math.max(60, end - Math.min(...firsts) + step);
  return end - Math.min(span, retentionS);
}

async function runQuery(query) {
  showError($('query-error'), null);
  $('graph-note').hidden = true;
  $('histogram-view').hidden = true;
  if (!query.trim()) return;
  const url = new URL(location.href);
  url.searchParams.set('q', query);
  history.replaceState(null, '', url);
  const end = Math.floor(Date.now() / 1000);
  let instant;
  try {
    instant = await api('/api/v1/query', { query, time: String(end) });
    renderInstant(instant);
  } catch (err) {
    $('instant').hidden = true;
    clearGraph();
    showError($('query-error'), err);
    return;
  }
  let start = end - retentionS;
  let step = stepFor(retentionS);
  try {
    start = await graphRange(query, end);
    step = stepFor(end - start);
    const range = (q) => api('/api/v1/query_range', { query: q, start: String(start), end: String(end), step: String(step) });
    let data = await range(query);
    const histograms = hasHistograms(instant) || hasHistograms(data);
    $('histogram-view').hidden = !histograms;
    $('histogram-quantile').hidden = $('histogram-stat').value !== 'quantile';
    const plotted = histograms ? histogramQuery(query) : query;
    if (histograms) data = await range(plotted);
    $('graph').dataset.query = plotted;
    renderGraph(data.result, start, end, step);
  } catch (err) {
    // A range vector or string has an instant value but no graph.
    renderGraph([], start, end, step);
    showError($('graph-note'), err);
  }
}

/** The picker's ranges that fit in the retention, then the retention itself; the choice is kept. */
function renderRanges() {
  const select = $('range');
  const chosen = select.value;
  const options = [el('option', { value: 'auto' }, 'where the data is')];
  for (const [seconds, label] of RANGES) if (seconds < retentionS) options.push(el('option', { value: String(seconds) }, `last ${label}`));
  options.push(el('option', { value: 'all' }, `whole retention (${retentionS}s)`));
  select.replaceChildren(...options);
  select.value = options.some((o) => o.value === chosen) ? chosen : 'auto';
}

function renderScaledObjects(triggers) {
  const body = $('scaledobjects').tBodies[0];
  body.replaceChildren(
    ...triggers.map((t) =>
      el(
        'tr',
        {},
        el('td', {}, t.namespace),
        el('td', {}, t.name),
        el('td', {}, el('code', {}, t.query)),
        t.lastValue === null ? el('td', { class: 'num' }, '—') : numCell(t.lastValue),
        numCell(t.targetValue),
        numCell(t.activationTargetValue),
        el('td', { class: t.active ? 'active' : 'inactive' }, t.active === null ? '—' : t.active ? 'yes' : 'no'),
        el('td', { class: 'num' }, t.desiredReplicas ?? '—'),
        el('td', { class: 'error' }, t.lastError ?? ''),
        el('td', {}, fmtTime(t.lastCall)),
      ),
    ),
  );
  $('so-empty').hidden = triggers.length > 0;
}

function renderMetrics(metrics) {
  const body = $('metrics').tBodies[0];
  body.replaceChildren(
    ...metrics.map((m) => {
      const link = el('a', { class: 'metric mono', href: `?q=${encodeURIComponent(m.name)}` }, m.name);
      link.addEventListener('click', (ev) => {
        ev.preventDefault();
        $('query').value = m.name;
        runQuery(m.name);
      });
      return el('tr', {}, el('td', {}, link), el('td', { class: 'num' }, m.series));
    }),
  );
  $('metrics-empty').hidden = metrics.length > 0;
  const series = metrics.reduce((sum, m) => sum + m.series, 0);
  $('summary').textContent = `${metrics.length} metrics, ${series} series, retention ${retentionS}s`;
}

async function refresh() {
  try {
    const status = await get('/api/v1/scaler/status');
    const retention = status.retentionSeconds ?? DEFAULT_WINDOW_S;
    if (retention !== retentionS || $('range').options.length === 1) {
      retentionS = retention;
      renderRanges();
    }
    renderScaledObjects(status.triggers);
    renderMetrics(await get('/api/v1/scaler/metrics'));
  } catch (err) {
    $('summary').textContent = `cannot reach the scaler: ${err.message}`;
  }
}

$('query-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  runQuery($('query').value);
});
for (const id of ['range', 'histogram-stat', 'histogram-quantile']) $(id).addEventListener('change', () => runQuery($('query').value));
// Ticks are chosen for a width: a resized window draws the graph again, once it settles.
let resizing;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => plot && runQuery($('query').value), 200);
});

await refresh();
setInterval(refresh, REFRESH_MS);
const initial = new URL(location.href).searchParams.get('q');
if (initial) {
  $('query').value = initial;
  runQuery(initial);
}

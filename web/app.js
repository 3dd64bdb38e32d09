// The page's only script: plain DOM, no framework, no inline code (the server's CSP forbids it).
import uPlot from '/assets/uplot.esm.js';

const REFRESH_MS = 5000;
const GRAPH_POINTS = 300;
const DEFAULT_WINDOW_S = 600;
const COLORS = ['#2f6fde', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0b7285', '#a61e4d', '#5c940d', '#862e9c', '#d9480f'];

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

function showError(target, err) {
  target.textContent = err ? String(err.message || err) : '';
  target.hidden = !err;
}

function fmtTime(seconds) {
  return seconds === null ? '—' : new Date(seconds * 1000).toLocaleTimeString();
}

function renderInstant(data) {
  const table = $('instant');
  const body = table.tBodies[0];
  body.replaceChildren();
  let rows;
  if (data.resultType === 'vector') rows = data.result.map((s) => [seriesName(s.metric), s.value[1]]);
  else if (data.resultType === 'matrix') rows = data.result.map((s) => [seriesName(s.metric), s.values.map((v) => v[1]).join(', ')]);
  else rows = [[data.resultType, data.result[1]]];
  for (const [name, value] of rows) body.append(el('tr', {}, el('td', {}, el('code', {}, name)), el('td', { class: 'num' }, value)));
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

function renderGraph(result, start, end, step) {
  const container = $('graph');
  plot?.destroy();
  plot = undefined;
  container.replaceChildren();
  const points = result.reduce((sum, s) => sum + s.values.length, 0);
  container.dataset.series = String(result.length);
  container.dataset.points = String(points);
  if (points === 0) return;
  const opts = {
    width: Math.max(320, container.clientWidth),
    height: 300,
    series: [{}, ...result.map((s, i) => ({ label: seriesName(s.metric), stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }))],
    axes: [{}, { size: 70 }],
    legend: { live: true },
  };
  plot = new uPlot(opts, toColumns(result, start, end, step), container);
}

async function runQuery(query) {
  showError($('query-error'), null);
  $('graph-note').hidden = true;
  if (!query.trim()) return;
  const url = new URL(location.href);
  url.searchParams.set('q', query);
  history.replaceState(null, '', url);
  const end = Math.floor(Date.now() / 1000);
  const step = Math.max(1, Math.ceil(retentionS / GRAPH_POINTS));
  const start = end - retentionS;
  try {
    renderInstant(await api('/api/v1/query', { query, time: String(end) }));
  } catch (err) {
    $('instant').hidden = true;
    plot?.destroy();
    plot = undefined;
    $('graph').replaceChildren();
    showError($('query-error'), err);
    return;
  }
  try {
    const data = await api('/api/v1/query_range', { query, start: String(start), end: String(end), step: String(step) });
    renderGraph(data.result, start, end, step);
  } catch (err) {
    // A range vector or string has an instant value but no graph.
    renderGraph([], start, end, step);
    showError($('graph-note'), err);
  }
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
        el('td', { class: 'num' }, t.targetValue),
        el('td', { class: 'num' }, t.lastValue ?? '—'),
        el('td', { class: t.active ? 'active' : 'inactive' }, t.active === null ? '—' : t.active ? 'yes' : 'no'),
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
    retentionS = status.retentionSeconds ?? DEFAULT_WINDOW_S;
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
window.addEventListener('resize', () => plot?.setSize({ width: Math.max(320, $('graph').clientWidth), height: 300 }));

await refresh();
setInterval(refresh, REFRESH_MS);
const initial = new URL(location.href).searchParams.get('q');
if (initial) {
  $('query').value = initial;
  runQuery(initial);
}

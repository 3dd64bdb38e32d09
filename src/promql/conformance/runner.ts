import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RE2JS } from 're2js';
import { Tsdb } from '../../tsdb/db.js';
import { labelsGet, labelsKey, labelsToRecord, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import type { Expr, VectorSelector } from '../ast.js';
import { Engine } from '../eval/engine.js';
import { almostEqual } from '../functions/histogram.js';
import { parseExpr } from '../parser/parse.js';
import { walk } from '../parser/walk.js';
import type { QueryResult, QueryValue, RangeSeries, Sample } from '../value.js';
import type { FloatHistogram } from '../../tsdb/float-histogram.js';
import type { SeqValue } from './series-desc.js';
import { withAtModifier } from './at-modifier.js';
import { nhcbSeries } from './nhcb.js';
import { parseScript, ScriptError, type Command, type EvalCommand, type Expectation, type LoadCommand } from './script.js';

export type EvalStatus = 'passed' | 'failed' | 'skipped';

export interface EvalOutcome {
  file: string;
  line: number;
  query: string;
  status: EvalStatus;
  /** Why it failed (expected vs actual) or was skipped. */
  reason: string;
}

export interface FileReport {
  file: string;
  outcomes: EvalOutcome[];
}

/** Prometheus's relative tolerance for comparing sample values. */
const EPSILON = 1e-6;
const MINUTE = 60_000;
const QUERY_CONTEXT_FUNCS = /(start|end|range|step)\(\)/;

class EvalFailure extends Error {}

function fail(message: string): never {
  throw new EvalFailure(message);
}

function formatLabels(l: Labels): string {
  const parts = Object.entries(labelsToRecord(l))
    .filter(([k]) => k !== METRIC_NAME)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${labelsGet(l, METRIC_NAME)}{${parts.join(', ')}}`;
}

function matchesText(e: Expectation, s: string): boolean {
  if (e.text === undefined) return true;
  if (!e.regex) return e.text === s;
  return RE2JS.compile(e.text).matcher(s).find();
}

function expectationsOf(cmd: EvalCommand, kind: Expectation['kind']): Expectation[] {
  return cmd.expectations.filter((e) => e.kind === kind);
}

function isOrdered(cmd: EvalCommand): boolean {
  return expectationsOf(cmd, 'ordered').length > 0;
}

function isFail(cmd: EvalCommand): boolean {
  return expectationsOf(cmd, 'fail').length > 0;
}

function checkFailure(cmd: EvalCommand, err: Error): void {
  const exp = expectationsOf(cmd, 'fail')[0];
  if (exp !== undefined && !matchesText(exp, err.message)) {
    fail(`expected error matching ${JSON.stringify(exp.text)}, got: ${err.message}`);
  }
}

function checkAnnotationsOfKind(expected: Expectation[], actual: string[], kind: string): void {
  if (expected.length === 0) return;
  if (actual.length === 0) fail(`expected ${kind} annotations but none were found`);
  for (const e of expected) {
    if (!actual.some((a) => matchesText(e, a))) fail(`expected ${kind} annotation matching ${JSON.stringify(e.text)}, found: ${JSON.stringify(actual)}`);
  }
  for (const a of actual) {
    if (!expected.some((e) => matchesText(e, a))) fail(`unexpected ${kind} annotation ${JSON.stringify(a)}`);
  }
}

function checkAnnotations(cmd: EvalCommand, res: QueryResult): void {
  checkAnnotationsOfKind(expectationsOf(cmd, 'warn'), res.warnings, 'warn');
  checkAnnotationsOfKind(expectationsOf(cmd, 'info'), res.infos, 'info');
  if (expectationsOf(cmd, 'no_warn').length > 0 && res.warnings.length > 0) fail(`unexpected warnings: ${JSON.stringify(res.warnings)}`);
  if (expectationsOf(cmd, 'no_info').length > 0 && res.infos.length > 0) fail(`unexpected infos: ${JSON.stringify(res.infos)}`);
}

function describe(v: QueryValue): string {
  switch (v.type) {
    case 'scalar':
      return `scalar ${v.v}`;
    case 'string':
      return `string ${JSON.stringify(v.v)}`;
    case 'vector':
      return `vector [${v.samples.map((s) => `${formatLabels(s.labels)} ${s.h?.toString() ?? s.v}`).join(', ')}]`;
    case 'matrix':
      return `matrix [${v.series.map((s) => `${formatLabels(s.labels)} ${pointsText(s)}`).join(', ')}]`;
  }
}

function pointsText(s: RangeSeries): string {
  const floats = s.values.map((x, i) => `${x}@${s.timestamps[i]}`);
  const histograms = (s.histograms ?? []).map((h, i) => `${h.toString()}@${s.histogramTimestamps![i]}`);
  return [...floats, ...histograms].join(' ');
}

const close = (a: number, b: number): boolean => almostEqual(a, b, EPSILON);

/** An expected histogram matches when its fields do; its counter reset hint only when the test wrote one. */
function histogramMatches(expected: SeqValue, actual: FloatHistogram): boolean {
  if (expected.kind !== 'histogram') return false;
  if (expected.hintGiven && expected.h.counterResetHint !== actual.counterResetHint) return false;
  return expected.h.equals(actual, close);
}

/** Compares a result with the expected output, as Prometheus's promqltest does. */
function compareResult(cmd: EvalCommand, v: QueryValue, stepStart: number, step: number): void {
  const expected = new Map(cmd.expected.map((e) => [labelsKey(e.labels), e]));
  switch (v.type) {
    case 'matrix': {
      if (isOrdered(cmd)) fail('expected ordered result, but query returned a matrix');
      if (cmd.expectedScalar !== undefined) fail(`expected scalar result, but got ${describe(v)}`);
      const seen = new Set<string>();
      for (const s of v.series) {
        const key = labelsKey(s.labels);
        const exp = expected.get(key);
        if (exp === undefined) fail(`unexpected metric ${formatLabels(s.labels)} in result: ${describe(v)}`);
        seen.add(key);
        const points: [number, number][] = [];
        const histograms: [number, SeqValue][] = [];
        exp.values.forEach((ev, i) => {
          const t = stepStart + i * step;
          if (t > cmd.endMs && !cmd.instant)
            fail(`expected ${exp.values.length} points for ${formatLabels(s.labels)}, but the query range cannot return this many`);
          if (ev.kind === 'value') points.push([t, ev.v]);
          else if (ev.kind === 'stale') points.push([t, NaN]);
          else if (ev.kind === 'histogram') histograms.push([t, ev]);
        });
        if (points.length !== s.values.length) fail(`expected ${points.length} float points for ${formatLabels(s.labels)}, got ${describe(v)}`);
        points.forEach(([t, x], i) => {
          if (s.timestamps[i] !== t) fail(`expected a point at ${t} for ${formatLabels(s.labels)}, got ${describe(v)}`);
          if (!almostEqual(s.values[i]!, x, EPSILON)) fail(`expected ${x} at ${t} for ${formatLabels(s.labels)}, got ${describe(v)}`);
        });
        const actualHistograms = s.histograms ?? [];
        if (histograms.length !== actualHistograms.length)
          fail(`expected ${histograms.length} histogram points for ${formatLabels(s.labels)}, got ${describe(v)}`);
        histograms.forEach(([t, eh], i) => {
          if (s.histogramTimestamps![i] !== t) fail(`expected a histogram at ${t} for ${formatLabels(s.labels)}, got ${describe(v)}`);
          if (!histogramMatches(eh, actualHistograms[i]!)) fail(`expected histogram at ${t} for ${formatLabels(s.labels)}, got ${describe(v)}`);
        });
      }
      for (const [key, e] of expected) if (!seen.has(key)) fail(`expected metric ${formatLabels(e.labels)} not found in ${describe(v)}`);
      return;
    }
    case 'vector': {
      if (cmd.expectedScalar !== undefined) fail(`expected scalar result, but got ${describe(v)}`);
      const seen = new Set<string>();
      v.samples.forEach((s, i) => {
        const key = labelsKey(s.labels);
        const exp = expected.get(key);
        if (exp === undefined) fail(`unexpected metric ${formatLabels(s.labels)} in result: ${describe(v)}`);
        if (isOrdered(cmd) && exp.pos !== i + 1) fail(`expected ${formatLabels(s.labels)} at position ${exp.pos} but was at ${i + 1}`);
        const first = exp.values[0];
        if (s.h !== undefined || first?.kind === 'histogram') {
          if (first === undefined || s.h === undefined || !histogramMatches(first, s.h)) {
            fail(`expected ${first?.kind === 'histogram' ? first.h.toString() : 'a float'} for ${formatLabels(s.labels)} but got ${s.h?.toString() ?? s.v}`);
          }
        } else {
          const x = first?.kind === 'value' ? first.v : NaN;
          if (!almostEqual(x, s.v, EPSILON)) fail(`expected ${x} for ${formatLabels(s.labels)} but got ${s.v}`);
        }
        seen.add(key);
      });
      for (const [key, e] of expected) if (!seen.has(key)) fail(`expected metric ${formatLabels(e.labels)} not found in ${describe(v)}`);
      return;
    }
    case 'scalar':
      if (cmd.expectedScalar === undefined) fail(`expected vector or matrix result, but got ${describe(v)}`);
      if (!almostEqual(cmd.expectedScalar, v.v, EPSILON)) fail(`expected scalar ${cmd.expectedScalar} but got ${v.v}`);
      return;
    case 'string':
      if (cmd.expectedString !== v.v) fail(`expected string ${JSON.stringify(cmd.expectedString)} but got ${JSON.stringify(v.v)}`);
  }
}

/** Runs one query; a failure of the query itself is checked against `expect fail`. Returns undefined when it failed as expected. */
function runChecked(cmd: EvalCommand, run: () => QueryResult): QueryResult | undefined {
  let res: QueryResult;
  try {
    res = run();
  } catch (e) {
    if (e instanceof EvalFailure) throw e;
    if (isFail(cmd)) {
      checkFailure(cmd, e as Error);
      return undefined;
    }
    fail(`error evaluating query: ${(e as Error).message}`);
  }
  if (isFail(cmd)) fail(`expected error evaluating query but got none: ${describe(res.value)}`);
  if (cmd.expectations.some((e) => e.kind === 'warn' && e.text === undefined) && res.warnings.length === 0) fail('expected warnings but got none');
  if (cmd.expectations.some((e) => e.kind === 'info' && e.text === undefined) && res.infos.length === 0) fail('expected info annotations but got none');
  checkAnnotations(cmd, res);
  return res;
}

/** The instant check, then the same query as a range query around it, comparing the middle step. */
function runInstant(engine: Engine, cmd: EvalCommand, expr: Expr, t: number, text: string, label: string): void {
  const res = runChecked(cmd, () => engine.instant({ tree: expr, text }, t));
  if (res === undefined) return;
  try {
    compareResult(cmd, res.value, cmd.startMs, cmd.stepMs);
  } catch (e) {
    throw new EvalFailure(`${label}: ${(e as Error).message}`);
  }
  if (cmd.rangeVector || QUERY_CONTEXT_FUNCS.test(cmd.query)) return;
  let range: QueryResult;
  try {
    range = engine.range({ tree: expr, text }, t - MINUTE, t + MINUTE, MINUTE);
  } catch (e) {
    fail(`${label} in range mode: error evaluating query: ${(e as Error).message}`);
  }
  if (isOrdered(cmd) || range.value.type !== 'matrix') return;
  const samples: Sample[] = [];
  for (const s of range.value.series) {
    const i = s.timestamps.indexOf(t);
    if (i !== -1) samples.push({ labels: s.labels, t, v: s.values[i]! });
    const j = s.histogramTimestamps?.indexOf(t) ?? -1;
    if (j !== -1) samples.push({ labels: s.labels, t, v: NaN, h: s.histograms![j]! });
  }
  try {
    if (res.value.type === 'scalar') compareResult(cmd, { type: 'scalar', t, v: samples[0]?.v ?? NaN }, t, 0);
    else compareResult(cmd, { type: 'vector', samples }, t, 0);
  } catch (e) {
    throw new EvalFailure(`${label} in range mode: ${(e as Error).message}`);
  }
}

/** Selectors of a query, to tell whether it reads a native histogram. */
function selectorsOf(expr: Expr): VectorSelector[] {
  const out: VectorSelector[] = [];
  walk(expr, undefined, (e) => {
    if (e.kind === 'VectorSelector') out.push(e);
  });
  return out;
}

class ScriptRunner {
  private db = new Tsdb();
  /** Series given start times for native histogram samples, which the store does not keep yet. */
  private histogramStarts = new Set<string>();
  private engine = new Engine(this.db);

  constructor(private readonly file: string) {}

  clear(): void {
    this.db = new Tsdb();
    this.histogramStarts = new Set();
    this.engine = new Engine(this.db);
  }

  load(cmd: LoadCommand): void {
    for (const s of cmd.series) {
      s.values.forEach((v, i) => {
        const t = i * cmd.intervalMs;
        const offset = s.startOffsets?.[i];
        // Offsets are relative to the sample; an absolute 0 means "no start time", as in Prometheus.
        const st = offset === undefined ? 0 : t + offset;
        if (v.kind === 'value') this.db.appendLabels(s.labels, t, v.v, false, st);
        else if (v.kind === 'stale') this.db.appendLabels(s.labels, t, NaN, true, st);
        else if (v.kind === 'histogram') {
          this.db.appendHistogramLabels(s.labels, t, v.h);
          if (offset !== undefined) this.histogramStarts.add(labelsKey(s.labels));
        }
      });
    }
    if (!cmd.withNhcb) return;
    for (const { labels, histograms } of nhcbSeries(cmd.series)) {
      histograms.forEach((h, i) => {
        if (h !== undefined) this.db.appendHistogramLabels(labels, i * cmd.intervalMs, h);
      });
    }
  }

  eval(cmd: EvalCommand): EvalOutcome {
    const outcome = (status: EvalStatus, reason = ''): EvalOutcome => ({ file: this.file, line: cmd.line, query: cmd.query, status, reason });
    let expr: Expr;
    try {
      expr = parseExpr(cmd.query);
    } catch (e) {
      if (!isFail(cmd)) return outcome('failed', `parse error: ${(e as Error).message}`);
      try {
        checkFailure(cmd, e as Error);
        return outcome('passed');
      } catch (f) {
        return outcome('failed', (f as Error).message);
      }
    }
    const selectors = selectorsOf(expr);
    if (selectors.some((vs) => this.db.select(vs.matchers).some((s) => this.histogramStarts.has(labelsKey(s.labels))))) {
      return outcome('skipped', 'the store does not yet keep start times of native histogram samples');
    }
    try {
      if (cmd.instant) this.runInstantEval(cmd, expr);
      else this.runRangeEval(cmd, expr);
      return outcome('passed');
    } catch (e) {
      if (e instanceof EvalFailure) return outcome('failed', e.message);
      return outcome('failed', `runner error: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private runRangeEval(cmd: EvalCommand, expr: Expr): void {
    const res = runChecked(cmd, () => this.engine.range({ tree: expr, text: cmd.query }, cmd.startMs, cmd.endMs, cmd.stepMs));
    if (res !== undefined) compareResult(cmd, res.value, cmd.startMs, cmd.stepMs);
  }

  private runInstantEval(cmd: EvalCommand, expr: Expr): void {
    const t = cmd.rangeVector ? cmd.endMs : cmd.startMs;
    runInstant(this.engine, cmd, expr, t, cmd.query, `at ${t}ms`);
    const shifted = withAtModifier(expr, t);
    if (shifted === undefined) return;
    const times = t === 0 ? [-1000, 0, 1000] : [-10 * t, 0, t / 5, t, 10 * t];
    for (const at of times) runInstant(this.engine, cmd, shifted, at, cmd.query, `with @ ${t / 1000} evaluated at ${at}ms`);
  }
}

/** Runs one script; every eval becomes one outcome. A script that cannot be read is one failure. */
export function runScript(file: string, text: string): FileReport {
  const runner = new ScriptRunner(file);
  const outcomes: EvalOutcome[] = [];
  let cmds: Command[];
  try {
    cmds = parseScript(text);
  } catch (e) {
    const line = e instanceof ScriptError ? e.line : 0;
    return { file, outcomes: [{ file, line, query: '', status: 'failed', reason: `cannot read the script: ${(e as Error).message}` }] };
  }
  for (const cmd of cmds) {
    if (cmd.kind === 'clear') runner.clear();
    else if (cmd.kind === 'load') runner.load(cmd);
    else outcomes.push(runner.eval(cmd));
  }
  return { file, outcomes };
}

/** Runs every `.test` file of a folder, in name order. */
export function runDirectory(dir: string): FileReport[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test'))
    .sort();
  return files.map((f) => runScript(basename(f), readFileSync(join(dir, f), 'utf8')));
}

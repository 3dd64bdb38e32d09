import { RE2JS } from 're2js';
import { LabelsBuilder, labelsGet, METRIC_NAME } from '../../tsdb/labels.js';
import { EvalError } from '../errors.js';
import type { StepSeries } from '../value.js';

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Expands `$1`, `${1}`, `$name`, `${name}` and `$$` in a replacement, as Go's Regexp.Expand does:
 * `$name` takes the longest run of name characters, and unknown groups expand to nothing.
 */
function expand(template: string, group: (ref: string) => string): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar === -1 || dollar === template.length - 1) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const next = template.charCodeAt(dollar + 1);
    if (next === 36) {
      out += '$';
      i = dollar + 2;
      continue;
    }
    let name: string;
    let end: number;
    if (next === 123) {
      const close = template.indexOf('}', dollar + 2);
      name = close === -1 ? '' : template.slice(dollar + 2, close);
      end = close + 1;
      if (close === -1 || name === '' || ![...name].every((ch) => isNameChar(ch.charCodeAt(0)))) name = '';
    } else {
      end = dollar + 1;
      while (end < template.length && isNameChar(template.charCodeAt(end))) end++;
      name = template.slice(dollar + 1, end);
    }
    if (name === '') {
      // Not a reference: Go keeps the dollar sign as text.
      out += '$';
      i = dollar + 1;
      continue;
    }
    out += group(name);
    i = end;
  }
  return out;
}

/**
 * Merges series whose label sets became equal after relabelling; they may not share a step.
 * Returns series with distinct label sets.
 */
export function mergeSameLabels(series: StepSeries[], keyOf: (s: StepSeries) => string): StepSeries[] {
  const byKey = new Map<string, StepSeries>();
  let merged = false;
  for (const s of series) {
    const key = keyOf(s);
    const prev = byKey.get(key);
    if (prev === undefined) {
      byKey.set(key, s);
      continue;
    }
    merged = true;
    byKey.set(key, mergeTwo(prev, s));
  }
  return merged ? [...byKey.values()] : series;
}

function mergeTwo(a: StepSeries, b: StepSeries): StepSeries {
  const [ts, vs] = mergeLanes(a.ts, a.vs, b.ts, b.vs);
  const out: StepSeries = { labels: a.labels, dropName: a.dropName || b.dropName, ts, vs };
  if (a.hts === undefined && b.hts === undefined) return out;
  [out.hts, out.hs] = mergeLanes(a.hts ?? [], a.hs ?? [], b.hts ?? [], b.hs ?? []);
  const floats = new Set(ts);
  if (out.hts.some((t) => floats.has(t))) throw new EvalError('vector cannot contain metrics with the same labelset');
  return out;
}

/** Two series' points of one kind in time order; a step in both is a collision. */
function mergeLanes<T>(ats: number[], avs: T[], bts: number[], bvs: T[]): [number[], T[]] {
  const ts: number[] = [];
  const vs: T[] = [];
  let i = 0;
  let j = 0;
  while (i < ats.length || j < bts.length) {
    if (j >= bts.length || (i < ats.length && ats[i]! < bts[j]!)) {
      ts.push(ats[i]!);
      vs.push(avs[i++]!);
    } else if (i >= ats.length || bts[j]! < ats[i]!) {
      ts.push(bts[j]!);
      vs.push(bvs[j++]!);
    } else {
      throw new EvalError('vector cannot contain metrics with the same labelset');
    }
  }
  return [ts, vs];
}

export function labelReplace(series: StepSeries[], dst: string, replacement: string, src: string, regex: string): StepSeries[] {
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?s:${regex})$`);
  } catch {
    throw new EvalError(`invalid regular expression in label_replace(): ${regex}`);
  }
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_replace(): ${dst}`);
  const named = re.namedGroups();
  return series.map((s) => {
    const m = re.matcher(labelsGet(s.labels, src));
    if (!m.find()) return s;
    const value = expand(replacement, (ref) => {
      const idx = /^[0-9]+$/.test(ref) ? Number(ref) : named[ref];
      if (idx === undefined || idx > m.groupCount()) return '';
      return m.group(idx) ?? '';
    });
    const labels = new LabelsBuilder(s.labels).set(dst, value).labels();
    return { ...s, labels, dropName: dst === METRIC_NAME ? false : s.dropName };
  });
}

export function labelJoin(series: StepSeries[], dst: string, separator: string, srcs: string[]): StepSeries[] {
  for (const src of srcs) {
    if (!isValidLabelName(src)) throw new EvalError(`invalid source label name in label_join(): ${src}`);
  }
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_join(): ${dst}`);
  return series.map((s) => {
    const value = srcs.map((src) => labelsGet(s.labels, src)).join(separator);
    const labels = new LabelsBuilder(s.labels).set(dst, value).labels();
    return { ...s, labels, dropName: dst === METRIC_NAME ? false : s.dropName };
  });
}

/** A label name is any non-empty valid UTF-8 text (Prometheus 3's UTF-8 names). */
export function isValidLabelName(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

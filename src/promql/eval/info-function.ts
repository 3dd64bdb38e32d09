import { RE2JS } from 're2js';
import { LabelsBuilder, labelsGet, labelsHas, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import { Matcher } from '../../tsdb/matcher.js';
import type { VectorSelector } from '../ast.js';
import { labelsString } from './binary.js';
import { EvalError } from '../errors.js';
import { StepOutput, StepReader, stepCount, type StepGrid } from './steps.js';
import type { StepSample, StepSeries } from '../value.js';

/**
 * info(v, [selector]): adds the data labels of "info" series (default target_info) that share
 * v's identifying labels (instance, job).
 */

const TARGET_INFO = 'target_info';
const IDENTIFYING = ['instance', 'job'];

/** The info-name matchers that apply: only negative ones get an implicit `.+_info`. */
function effectiveNameMatchers(matchers: Matcher[]): Matcher[] {
  if (matchers.some((m) => m.type === '=' || m.type === '=~')) return matchers;
  if (matchers.length > 0) return [new Matcher('=~', METRIC_NAME, '.+_info'), ...matchers];
  return [new Matcher('=', METRIC_NAME, TARGET_INFO)];
}

export interface InfoPlan {
  /** Base series that are info series themselves: passed through untouched. */
  ignored: Set<number>;
  /** Matchers selecting the info series; undefined when no base series has an identifying label. */
  selectors: Matcher[] | undefined;
  /** Data-label matchers by label name, without `__name__`. */
  dataMatchers: Map<string, Matcher[]>;
}

export function planInfo(base: StepSeries[], selector: VectorSelector | undefined): InfoPlan {
  const dataMatchers = new Map<string, Matcher[]>();
  let nameMatchers: Matcher[];
  if (selector !== undefined) {
    for (const m of selector.matchers) dataMatchers.set(m.name, [...(dataMatchers.get(m.name) ?? []), m]);
    nameMatchers = selector.matchers.filter((m) => m.name === METRIC_NAME);
  } else {
    nameMatchers = [new Matcher('=', METRIC_NAME, TARGET_INFO)];
  }
  const effective = effectiveNameMatchers(nameMatchers);
  const ignored = new Set<number>();
  base.forEach((s, i) => {
    const name = labelsGet(s.labels, METRIC_NAME);
    if (effective.every((m) => m.matches(name))) ignored.add(i);
  });
  const idValues = new Map<string, Set<string>>();
  base.forEach((s, i) => {
    if (ignored.has(i)) return;
    for (const l of IDENTIFYING) {
      const v = labelsGet(s.labels, l);
      if (v === '') continue;
      let set = idValues.get(l);
      if (set === undefined) idValues.set(l, (set = new Set()));
      set.add(v);
    }
  });
  const dataNameMatchers = dataMatchers.get(METRIC_NAME) ?? [];
  dataMatchers.delete(METRIC_NAME);
  if (idValues.size === 0) return { ignored, selectors: undefined, dataMatchers };
  const selectors: Matcher[] = [];
  for (const [name, values] of idValues) selectors.push(new Matcher('=~', name, [...values].map((v) => RE2JS.quote(v)).join('|')));
  for (const ms of dataMatchers.values()) selectors.push(...ms);
  selectors.push(...effectiveNameMatchers(dataNameMatchers));
  return { ignored, selectors, dataMatchers };
}

function signature(name: string, l: Labels): string {
  return [name, ...IDENTIFYING.map((n) => (labelsHas(l, n) ? `${n}=${labelsGet(l, n)}` : ''))].join('\xff');
}

/**
 * Joins base series (floats and histograms) with info series step by step. `info` values are the
 * timestamps (ms) of the info samples, so that of two info series for one target the newer wins;
 * at `histogramSteps` an info sample was a histogram, which is an error where there is a base sample.
 */
export function combineInfo(base: StepSeries[], info: StepSeries[], plan: InfoPlan, grid: StepGrid, histogramSteps: ReadonlySet<number>): StepSeries[] {
  const infoNames = [...new Set(info.map((s) => labelsGet(s.labels, METRIC_NAME)))];
  const baseSigs = base.map((s) => infoNames.map((n) => signature(n, s.labels)));
  const infoSigs = info.map((s) => signature(labelsGet(s.labels, METRIC_NAME), s.labels));
  const allMatchEmpty = [...plan.dataMatchers.values()].every((ms) => ms.every((m) => m.matchesEmpty()));
  const baseReader = new StepReader(base, true);
  const infoReader = new StepReader(info);
  const bv: StepSample[] = [];
  const iv: StepSample[] = [];
  const output = new StepOutput();
  const n = stepCount(grid);
  for (let step = 0; step < n; step++) {
    const ts = grid.start + step * grid.interval;
    baseReader.vectorAt(ts, bv);
    if (bv.length === 0) continue;
    if (histogramSteps.has(ts)) throw new EvalError('info sample should be float');
    const bySig = new Map<string, StepSample>();
    for (const s of infoReader.vectorAt(ts, iv)) {
      const sig = infoSigs[s.src]!;
      const existing = bySig.get(sig);
      if (existing === undefined || existing.v < s.v) {
        bySig.set(sig, s);
      } else if (existing.v === s.v) {
        throw new EvalError(
          `found duplicate series for info metric: existing ${labelsString(existing.labels)} @ ${existing.v}, new ${labelsString(s.labels)} @ ${s.v}`,
        );
      }
    }
    for (const b of bv) {
      if (plan.ignored.has(b.src)) {
        output.addSample(b, ts);
        continue;
      }
      const added = new LabelsBuilder();
      let matched = 0;
      for (const sig of new Set(baseSigs[b.src]!)) {
        const is = bySig.get(sig);
        if (is === undefined) continue;
        matched++;
        for (let i = 0; i < is.labels.length; i += 2) {
          const name = is.labels[i]!;
          const value = is.labels[i + 1]!;
          if (name === METRIC_NAME) continue;
          if (plan.dataMatchers.size > 0 && !plan.dataMatchers.has(name)) continue;
          const prev = added.get(name);
          if (prev !== '' && prev !== value) throw new EvalError(`conflicting label: ${name}`);
          if (labelsHas(b.labels, name)) continue;
          added.set(name, value);
        }
      }
      if (matched === 0 && !allMatchEmpty) continue;
      const out = new LabelsBuilder(b.labels);
      const extra = added.labels();
      for (let i = 0; i < extra.length; i += 2) out.set(extra[i]!, extra[i + 1]!);
      output.addSample({ ...b, labels: out.labels() }, ts);
    }
  }
  return output.series();
}

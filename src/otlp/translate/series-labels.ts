import { METRIC_NAME } from '../../tsdb/labels.js';
import type { Attribute } from '../decode/model.js';
import { labelName, type NameTranslation } from './naming.js';

/** Flat sorted `[name, value, ...]` without empty values, as tsdb Labels, but still being built. */
export type LabelList = string[];

const SERVICE_NAME = 'service.name';
const SERVICE_NAMESPACE = 'service.namespace';
const SERVICE_INSTANCE_ID = 'service.instance.id';
/** Bound on the attribute-key → label-name cache, so random keys cannot grow it forever. */
const NAME_CACHE_LIMIT = 10_000;

/** The labels one resource contributes to its series, split by precedence. */
export interface ResourceLabels {
  /** Promoted resource attributes: the lowest precedence, a point attribute of the same name wins. */
  promoted: LabelList;
  /** `job` and `instance`: they override point attributes, as in Prometheus. */
  identity: LabelList;
  /** promoted and identity merged, for points without attributes. */
  merged: LabelList;
}

/**
 * Builds label sets the way Prometheus's OTLP receiver does: point attributes with sanitized
 * names; `job` = `service.namespace/service.name` (or `service.name`); `instance` =
 * `service.instance.id`; other resource attributes promoted as chosen by the
 * `promoteResourceAttributes` setting ("*" all, a comma-separated list, "" none). Attributes
 * whose names collide after sanitizing are joined with `;` in key order, as Prometheus does.
 */
export class SeriesLabeler {
  private readonly names = new Map<string, string>();
  private readonly promoteAll: boolean;
  private readonly promote: ReadonlySet<string>;

  constructor(
    private readonly strategy: NameTranslation,
    promoteResourceAttributes: string,
  ) {
    const list = promoteResourceAttributes
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    this.promoteAll = list.includes('*');
    this.promote = new Set(list);
  }

  /** The label name for an attribute key; throws NamingError when there is none. */
  labelName(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = labelName(this.strategy, key);
      if (this.names.size >= NAME_CACHE_LIMIT) this.names.clear();
      this.names.set(key, name);
    }
    return name;
  }

  resource(attributes: Attribute[]): ResourceLabels {
    let serviceName = '';
    let serviceNamespace = '';
    let instance = '';
    const promoted: Attribute[] = [];
    for (const a of attributes) {
      if (a.key === SERVICE_NAME) serviceName = a.value;
      else if (a.key === SERVICE_NAMESPACE) serviceNamespace = a.value;
      else if (a.key === SERVICE_INSTANCE_ID) instance = a.value;
      // The three identifying attributes are already `job` and `instance`.
      if (a.key === SERVICE_NAME || a.key === SERVICE_NAMESPACE || a.key === SERVICE_INSTANCE_ID) continue;
      if (this.promoteAll || this.promote.has(a.key)) promoted.push(a);
    }
    const identity: LabelList = [];
    if (instance !== '') identity.push('instance', instance);
    if (serviceName !== '') identity.push('job', serviceNamespace !== '' ? `${serviceNamespace}/${serviceName}` : serviceName);
    const promotedLabels = this.attributes(promoted, true);
    return { promoted: promotedLabels, identity, merged: mergeLabels(promotedLabels, identity) };
  }

  /**
   * The label set of a data point without its metric name. Throws NamingError for an attribute
   * key that makes no label name.
   */
  point(resource: ResourceLabels, attributes: Attribute[]): LabelList {
    if (attributes.length === 0) return resource.merged;
    return mergeLabels(mergeLabels(resource.promoted, this.attributes(attributes, false)), resource.identity);
  }

  /** Sorted label list of attributes; `lenient` skips keys that make no label name instead of throwing. */
  private attributes(attributes: Attribute[], lenient: boolean): LabelList {
    const pairs: [name: string, key: string, value: string][] = [];
    for (const a of attributes) {
      if (a.value === '') continue;
      let name: string;
      try {
        name = this.labelName(a.key);
      } catch (e) {
        if (lenient) continue;
        throw e;
      }
      pairs.push([name, a.key, a.value]);
    }
    if (pairs.length > 1) pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
    const out: LabelList = [];
    for (const [name, , value] of pairs) {
      if (out.length > 0 && out[out.length - 2] === name) out[out.length - 1] += `;${value}`;
      else out.push(name, value);
    }
    return out;
  }
}

/** Merges two sorted label lists; on the same name, `high` wins. */
export function mergeLabels(low: readonly string[], high: readonly string[]): LabelList {
  if (high.length === 0) return low as LabelList;
  if (low.length === 0) return high as LabelList;
  const out: LabelList = [];
  let i = 0;
  let j = 0;
  while (i < low.length && j < high.length) {
    const a = low[i]!;
    const b = high[j]!;
    if (a < b) {
      out.push(a, low[i + 1]!);
      i += 2;
    } else if (a > b) {
      out.push(b, high[j + 1]!);
      j += 2;
    } else {
      out.push(b, high[j + 1]!);
      i += 2;
      j += 2;
    }
  }
  for (; i < low.length; i += 2) out.push(low[i]!, low[i + 1]!);
  for (; j < high.length; j += 2) out.push(high[j]!, high[j + 1]!);
  return out;
}

/** The full label set of one series: the point's labels plus `__name__` (and `le` or `quantile`). */
export function seriesLabels(point: readonly string[], name: string, extraName?: string, extraValue?: string): string[] {
  const extra = extraName === undefined ? [METRIC_NAME, name] : [METRIC_NAME, name, extraName, extraValue!];
  return mergeLabels(point, extra);
}

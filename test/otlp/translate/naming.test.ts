import { describe, expect, it } from 'vitest';
import { labelName, metricName, MetricType, prometheusUnit, translateMetricName, type NameTranslation } from '../../../src/otlp/translate/naming.js';

const D: NameTranslation = 'UnderscoreEscapingWithSuffixes';

describe('metric names, UnderscoreEscapingWithSuffixes (the default)', () => {
  it.each([
    ['otelcol_receiver_accepted_spans', '{spans}', MetricType.MonotonicCounter, 'otelcol_receiver_accepted_spans_total'],
    ['otelcol.exporter.queue_size', '{batches}', MetricType.Gauge, 'otelcol_exporter_queue_size'],
    ['cpu.usage', '1', MetricType.Gauge, 'cpu_usage_ratio'],
    ['items', '1', MetricType.MonotonicCounter, 'items_total'],
    ['items', '1', MetricType.NonMonotonicCounter, 'items'],
    ['cpu.usage_ratio', '1', MetricType.Gauge, 'cpu_usage_ratio'],
    ['http.server.request.duration', 's', MetricType.Histogram, 'http_server_request_duration_seconds'],
    ['response_time_seconds', 's', MetricType.Histogram, 'response_time_seconds'],
    ['otelcol_process_cpu_seconds', 's', MetricType.MonotonicCounter, 'otelcol_process_cpu_seconds_total'],
    ['memory.usage', 'By', MetricType.Gauge, 'memory_usage_bytes'],
    ['throughput', 'By/s', MetricType.Gauge, 'throughput_bytes_per_second'],
    ['requests', '1/s', MetricType.Gauge, 'requests_per_second'],
    ['queue', '{items}/s', MetricType.Gauge, 'queue_per_second'],
    ['transfer', 'By/{batch}', MetricType.Gauge, 'transfer_bytes'],
    ['custom_metric', 'custom_unit', MetricType.Gauge, 'custom_metric_custom_unit'],
    ['temp', 'Cel', MetricType.Gauge, 'temp_celsius'],
    ['odd', 'constructor/toString', MetricType.Gauge, 'odd_constructor_per_toString'],
    ['requests_total', '', MetricType.MonotonicCounter, 'requests_total'],
    ['requests.total.count', '', MetricType.MonotonicCounter, 'requests_count_total'],
    ['123metric', '', MetricType.Gauge, '_123metric'],
    ['metric@@##$$name', '', MetricType.Gauge, 'metric_name'],
    ['a__b..c', '', MetricType.Gauge, 'a_b_c'],
    ['ns:sub.metric', 'ms', MetricType.Summary, 'ns:sub_metric_milliseconds'],
  ])('%s [%s] → %s', (name, unit, type, want) => {
    expect(metricName(D, name, unit, type)).toBe(want);
  });

  it('rejects names that leave nothing or only underscores', () => {
    expect(() => metricName(D, '', '', MetricType.Gauge)).toThrow(/empty name/);
    expect(() => metricName(D, '@#$%', '', MetricType.Gauge)).toThrow(/empty name/);
    expect(() => metricName(D, '___', '', MetricType.Gauge)).toThrow(/empty name/);
    expect(() => metricName('UnderscoreEscapingWithoutSuffixes', '@_#_$_%', '', MetricType.Gauge)).toThrow(/only underscores/);
  });

  it('gives the un-suffixed escaped name as the alias', () => {
    expect(translateMetricName(D, 'otelcol_receiver_accepted_spans', '{spans}', MetricType.MonotonicCounter)).toEqual({
      name: 'otelcol_receiver_accepted_spans_total',
      alias: 'otelcol_receiver_accepted_spans',
    });
    expect(translateMetricName(D, 'http.server.duration', 's', MetricType.Histogram)).toEqual({
      name: 'http_server_duration_seconds',
      alias: 'http_server_duration',
    });
    expect(translateMetricName(D, 'queue_size', '', MetricType.Gauge)).toEqual({ name: 'queue_size', alias: undefined });
    expect(translateMetricName('NoTranslation', 'a.b', 's', MetricType.MonotonicCounter)).toEqual({ name: 'a.b', alias: undefined });
  });
});

describe('metric names, other strategies', () => {
  it('UnderscoreEscapingWithoutSuffixes escapes but adds nothing', () => {
    const s: NameTranslation = 'UnderscoreEscapingWithoutSuffixes';
    expect(metricName(s, 'metric@with#special$chars', '', MetricType.Gauge)).toBe('metric_with_special_chars');
    expect(metricName(s, 'http.server.duration', 's', MetricType.MonotonicCounter)).toBe('http_server_duration');
    expect(metricName(s, 'keeps__double', '', MetricType.Gauge)).toBe('keeps__double');
    expect(metricName(s, '9lives', '', MetricType.Gauge)).toBe('_9lives');
    expect(metricName(s, '___', '', MetricType.Gauge)).toBe('___');
  });

  it('NoUTF8EscapingWithSuffixes keeps the characters and adds suffixes', () => {
    const s: NameTranslation = 'NoUTF8EscapingWithSuffixes';
    expect(metricName(s, 'requêsts', '1/s', MetricType.Gauge)).toBe('requêsts_per_second');
    expect(metricName(s, 'cpu_usagé', '1', MetricType.Gauge)).toBe('cpu_usagé_ratio');
    expect(metricName(s, 'http.server.duration', 'ms', MetricType.Histogram)).toBe('http.server.duration_milliseconds');
    expect(metricName(s, 'cpu_seconds_total', 's', MetricType.MonotonicCounter)).toBe('cpu_seconds_total');
    expect(metricName(s, 'requests', '1/s', MetricType.MonotonicCounter)).toBe('requests_per_second_total');
    expect(translateMetricName(s, 'a.b', '{x}', MetricType.MonotonicCounter)).toEqual({ name: 'a.b_total', alias: 'a.b' });
  });

  it('NoTranslation passes names through', () => {
    expect(metricName('NoTranslation', 'http.server.duration', 's', MetricType.Histogram)).toBe('http.server.duration');
  });
});

describe('units in metadata', () => {
  it.each([
    ['By/s', 'bytes_per_second'],
    ['s', 'seconds'],
    ['{spans}', ''],
    ['1', ''],
    ['1/s', 'per_second'],
    ['%', 'percent'],
  ])('%s → %s', (unit, want) => {
    expect(prometheusUnit(D, unit)).toBe(want);
  });
});

describe('label names', () => {
  it.each([
    ['label.with.dots', 'label_with_dots'],
    ['label:with:colons', 'label_with_colons'],
    ['LabelWithCapitalLetters', 'LabelWithCapitalLetters'],
    ['label!with&special$chars)', 'label_with_special_chars_'],
    ['label_with_foreign_characters_字符', 'label_with_foreign_characters_'],
    ['123label', 'key_123label'],
    ['_leading', '_leading'],
    ['__two_leading', '_two_leading'],
    ['__reserved__label__name__', '__reserved_label_name__'],
    ['label__with__double', 'label_with_double'],
    ['service.instance.id', 'service_instance_id'],
  ])('%s → %s', (key, want) => {
    expect(labelName(D, key)).toBe(want);
  });

  it('rejects keys that leave only underscores, or are empty', () => {
    expect(() => labelName(D, '')).toThrow(/empty/);
    expect(() => labelName(D, 'ようこそ')).toThrow(/only underscores/);
    expect(() => labelName(D, '__')).toThrow(/only underscores/);
    expect(() => labelName('NoTranslation', '__')).toThrow(/only underscores/);
  });

  it('keeps keys as they are when not escaping', () => {
    expect(labelName('NoUTF8EscapingWithSuffixes', 'http.method')).toBe('http.method');
  });
});

import { Buffer } from 'node:buffer';

/**
 * Bounds on one series' label set. The series limit bounds how many label sets are held; these
 * bound how large one can be, so a sender cannot fill memory with a few huge series either.
 * Generous next to what OpenTelemetry resources and attributes carry in practice.
 */
export const MAX_LABELS_PER_SERIES = 128;
export const MAX_LABEL_NAME_LENGTH = 1024;
export const MAX_LABEL_VALUE_LENGTH = 16 * 1024;

const METRIC_NAME_LABEL_BYTES = '__name__'.length;

/**
 * Why a label list (flat `[name, value, ...]`, without `__name__`) is over a limit, or undefined.
 * `extra` counts the labels the series will get besides these (`__name__`, `le`, `quantile`);
 * `maxSeriesBytes` bounds the UTF-8 bytes of every label name and value, `__name__` and the
 * `metricName` it will get included (none when the list carries its name), which is what a
 * series' labels cost in memory when none is shared.
 */
export function labelLimitViolation(labels: readonly string[], extra: number, maxSeriesBytes = Infinity, metricName?: string): string | undefined {
  const count = labels.length / 2 + extra;
  if (count > MAX_LABELS_PER_SERIES) return `${count} labels, more than the limit of ${MAX_LABELS_PER_SERIES} a series`;
  let chars = metricName === undefined ? 0 : METRIC_NAME_LABEL_BYTES + metricName.length;
  for (let i = 0; i < labels.length; i += 2) {
    const name = labels[i]!;
    if (name.length > MAX_LABEL_NAME_LENGTH) {
      return `label name ${JSON.stringify(name.slice(0, 40))}… is ${name.length} characters long, over the limit of ${MAX_LABEL_NAME_LENGTH}`;
    }
    const value = labels[i + 1]!;
    if (value.length > MAX_LABEL_VALUE_LENGTH) {
      return `label ${name} has a value ${value.length} characters long, over the limit of ${MAX_LABEL_VALUE_LENGTH}`;
    }
    chars += name.length + value.length;
  }
  // A character is one to three UTF-8 bytes: only a set near the bound needs counting exactly.
  if (chars * 3 <= maxSeriesBytes) return undefined;
  let bytes = metricName === undefined ? 0 : METRIC_NAME_LABEL_BYTES + Buffer.byteLength(metricName);
  for (let i = 0; i < labels.length; i++) bytes += Buffer.byteLength(labels[i]!);
  if (bytes <= maxSeriesBytes) return undefined;
  return `labels of ${bytes} bytes (names and values), over the limit of ${maxSeriesBytes} bytes a series`;
}

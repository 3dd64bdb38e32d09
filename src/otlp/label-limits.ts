/**
 * Bounds on one series' label set. The series limit bounds how many label sets are held; these
 * bound how large one can be, so a sender cannot fill memory with a few huge series either.
 * Generous next to what OpenTelemetry resources and attributes carry in practice.
 */
export const MAX_LABELS_PER_SERIES = 128;
export const MAX_LABEL_NAME_LENGTH = 1024;
export const MAX_LABEL_VALUE_LENGTH = 16 * 1024;

/**
 * Why a label list (flat `[name, value, ...]`, without `__name__`) is over a limit, or undefined.
 * `extra` counts the labels the series will get besides these (`__name__`, `le`, `quantile`).
 */
export function labelLimitViolation(labels: readonly string[], extra: number): string | undefined {
  const count = labels.length / 2 + extra;
  if (count > MAX_LABELS_PER_SERIES) return `${count} labels, more than the limit of ${MAX_LABELS_PER_SERIES} a series`;
  for (let i = 0; i < labels.length; i += 2) {
    const name = labels[i]!;
    if (name.length > MAX_LABEL_NAME_LENGTH) {
      return `label name ${JSON.stringify(name.slice(0, 40))}… is ${name.length} characters long, over the limit of ${MAX_LABEL_NAME_LENGTH}`;
    }
    const value = labels[i + 1]!;
    if (value.length > MAX_LABEL_VALUE_LENGTH) {
      return `label ${name} has a value ${value.length} characters long, over the limit of ${MAX_LABEL_VALUE_LENGTH}`;
    }
  }
  return undefined;
}

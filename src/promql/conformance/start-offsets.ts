import { parseDurationMs } from './duration.js';
import { SeriesDescError } from './desc-number.js';

/**
 * The values of a start-timestamp line (`metric{...}@st <items>`): one offset a sample position,
 * in ms relative to that sample's own timestamp, or undefined where the sample has no start time.
 * Items: `_`, `_xN` (N positions), `<d>`, `<d>xN` (N+1 positions), `<d>+<s>xN` / `<d>-<s>xN`
 * (N+1 positions stepping by s), where d and s are signed durations such as `-1m`, `1ms`, `0`.
 */
export function parseStartOffsets(text: string): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (const item of text.trim().split(/[ \t]+/)) {
    if (item === '') continue;
    try {
      readItem(item, out);
    } catch (e) {
      throw new SeriesDescError(`invalid start timestamp item ${JSON.stringify(item)}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** A signed duration at the start of s: the ms and where the rest begins. */
function readDuration(s: string, pos: number): [number, number] {
  let i = pos;
  let sign = 1;
  if (s[i] === '-' || s[i] === '+') {
    if (s[i] === '-') sign = -1;
    i++;
  }
  const digits = i;
  while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
  if (i === digits) throw new SeriesDescError('expected digits');
  // The unit is letters up to the repeat marker `x`, which no unit contains.
  while (i < s.length && /[a-wyzA-Z]/.test(s[i]!)) i++;
  return [sign * parseDurationMs(s.slice(digits, i)), i];
}

function repeatCount(s: string, pos: number): number {
  if (s[pos] !== 'x' || !/^\d+$/.test(s.slice(pos + 1))) throw new SeriesDescError('expected x<count>');
  return Number(s.slice(pos + 1));
}

function readItem(item: string, out: (number | undefined)[]): void {
  if (item === '_') {
    out.push(undefined);
    return;
  }
  if (item.startsWith('_x')) {
    const n = repeatCount(item, 1);
    if (n === 0) throw new SeriesDescError('invalid repeat count');
    for (let k = 0; k < n; k++) out.push(undefined);
    return;
  }
  const [first, afterFirst] = readDuration(item, 0);
  if (afterFirst === item.length) {
    out.push(first);
    return;
  }
  let step = 0;
  let countAt = afterFirst;
  if (item[afterFirst] === '+' || item[afterFirst] === '-') {
    const [s, afterStep] = readDuration(item, afterFirst + 1);
    step = item[afterFirst] === '-' ? -s : s;
    countAt = afterStep;
  } else if (item[afterFirst] !== 'x') {
    throw new SeriesDescError(`unexpected ${JSON.stringify(item[afterFirst])} after the duration`);
  }
  const n = repeatCount(item, countAt);
  for (let k = 0; k <= n; k++) out.push(first + k * step);
}

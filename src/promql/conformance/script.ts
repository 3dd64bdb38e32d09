import { labelsEqual, type Labels } from '../../tsdb/labels.js';
import { parseDurationMs } from './duration.js';
import { parseNumber, SeriesDescError } from './desc-number.js';
import { parseSeriesDesc, readQuoted, type SeqValue, type SeriesDesc } from './series-desc.js';
import { parseStartOffsets } from './start-offsets.js';

/** Reading the promqltest script language (Prometheus's promql/promqltest/README.md). */

export type ExpectKind = 'fail' | 'ordered' | 'warn' | 'no_warn' | 'info' | 'no_info';

export interface Expectation {
  kind: ExpectKind;
  /** Exact message, or a regex (Go syntax, unanchored) when `regex` is true; undefined matches anything. */
  text: string | undefined;
  regex: boolean;
}

export interface ExpectedSeries {
  labels: Labels;
  values: SeqValue[];
  /** 1-based order in the expectation list, for `expect ordered`. */
  pos: number;
}

/** A series to load, with the start times its `@st` line gave (ms relative to each sample), if any. */
export interface LoadSeries extends SeriesDesc {
  startOffsets: (number | undefined)[] | undefined;
}

export interface LoadCommand {
  kind: 'load';
  line: number;
  intervalMs: number;
  withNhcb: boolean;
  series: LoadSeries[];
}

export interface EvalCommand {
  kind: 'eval';
  line: number;
  query: string;
  instant: boolean;
  startMs: number;
  endMs: number;
  stepMs: number;
  expectations: Expectation[];
  expected: ExpectedSeries[];
  /** A bare number expected: the result must be a scalar. */
  expectedScalar: number | undefined;
  expectedString: string | undefined;
  /** The instant query returns a range vector (`expect range vector`); it is not re-run as a range query. */
  rangeVector: boolean;
}

export interface ClearCommand {
  kind: 'clear';
  line: number;
}

export type Command = LoadCommand | EvalCommand | ClearCommand;

export class ScriptError extends Error {
  override name = 'ScriptError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const LOAD = /^load(?:_(with_nhcb))?\s+(.+?)$/;
const EVAL_INSTANT = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;
const EVAL_RANGE = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/;
const EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;
const EXPECT_RANGE = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/;

function lines(input: string): string[] {
  return input.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
}

function parseLoad(ls: string[], i: number): [LoadCommand, number] {
  const m = LOAD.exec(ls[i]!);
  if (!m) throw new ScriptError(i + 1, 'invalid load command (load[_with_nhcb] <step:duration>)');
  const cmd: LoadCommand = { kind: 'load', line: i + 1, intervalMs: parseDurationMs(m[2]!), withNhcb: m[1] === 'with_nhcb', series: [] };
  let pending: { line: number; labels: Labels; offsets: (number | undefined)[] } | undefined;
  while (i + 1 < ls.length && ls[i + 1] !== '') {
    i++;
    const def = ls[i]!;
    const firstSpace = def.search(/[ \t]/);
    try {
      if (firstSpace > 0 && def.slice(0, firstSpace).endsWith('@st')) {
        if (pending !== undefined) throw new ScriptError(pending.line, '@st line has no following sample line');
        // The metric part is read as a series description with a placeholder value.
        const { labels } = parseSeriesDesc(`${def.slice(0, firstSpace - '@st'.length)} _`);
        pending = { line: i + 1, labels, offsets: parseStartOffsets(def.slice(firstSpace)) };
        continue;
      }
      const desc = parseSeriesDesc(def);
      let startOffsets: (number | undefined)[] | undefined;
      if (pending !== undefined) {
        if (!labelsEqual(pending.labels, desc.labels)) throw new ScriptError(pending.line, '@st metric does not match the following sample line metric');
        if (pending.offsets.length !== desc.values.length) {
          throw new ScriptError(pending.line, `@st line has ${pending.offsets.length} values but sample line has ${desc.values.length}`);
        }
        startOffsets = pending.offsets;
        pending = undefined;
      }
      cmd.series.push({ ...desc, startOffsets });
    } catch (e) {
      if (e instanceof ScriptError) throw e;
      throw new ScriptError(i + 1, (e as Error).message);
    }
  }
  if (pending !== undefined) throw new ScriptError(pending.line, '@st line has no following sample line');
  return [cmd, i];
}

function parseExpect(text: string, line: number): Expectation {
  const m = EXPECT.exec(text.trim());
  if (!m) throw new ScriptError(line, 'invalid expect statement, must match `expect <type> <match_type>: <string>` format');
  const kind = m[1] as ExpectKind;
  if (m[2] === undefined) return { kind, text: undefined, regex: false };
  return { kind, text: m[3]!.trim(), regex: m[2] === 'regex' };
}

function parseEval(ls: string[], i: number): [EvalCommand, number] {
  const line = ls[i]!;
  const inst = EVAL_INSTANT.exec(line);
  const rng = inst ? null : EVAL_RANGE.exec(line);
  if (!inst && !rng) throw new ScriptError(i + 1, `invalid evaluation command: ${line}`);
  const mod = inst ? inst[1] : rng![1];
  let cmd: EvalCommand;
  if (inst) {
    const t = parseDurationMs(inst[2] ?? '0');
    cmd = base(i + 1, inst[3]!, true, t, t, 0);
  } else {
    const start = parseDurationMs(rng![2]!);
    const end = parseDurationMs(rng![3]!);
    if (end < start) throw new ScriptError(i + 1, 'end timestamp is before start timestamp');
    cmd = base(i + 1, rng![5]!, false, start, end, parseDurationMs(rng![4]!));
  }
  if (mod === 'fail') cmd.expectations.push({ kind: 'fail', text: undefined, regex: false });
  if (mod === 'ordered') cmd.expectations.push({ kind: 'ordered', text: undefined, regex: false });
  if (mod === 'warn') cmd.expectations.push({ kind: 'warn', text: undefined, regex: false });
  if (mod === 'info') cmd.expectations.push({ kind: 'info', text: undefined, regex: false });
  let pos = 1;
  while (i + 1 < ls.length && ls[i + 1] !== '') {
    i++;
    const def = ls[i]!;
    const isFail = cmd.expectations.some((e) => e.kind === 'fail');
    if (isFail && def.startsWith('expected_fail_message')) {
      replaceFail(cmd, { kind: 'fail', text: def.slice('expected_fail_message'.length).trim(), regex: false });
      break;
    }
    if (isFail && def.startsWith('expected_fail_regexp')) {
      replaceFail(cmd, { kind: 'fail', text: def.slice('expected_fail_regexp'.length).trim(), regex: true });
      break;
    }
    if (def.startsWith('expect range vector')) {
      const m = EXPECT_RANGE.exec(def);
      if (!m) throw new ScriptError(i + 1, `invalid range vector definition ${JSON.stringify(def)}`);
      cmd.startMs = parseDurationMs(m[1]!);
      cmd.endMs = parseDurationMs(m[2]!);
      cmd.stepMs = parseDurationMs(m[3]!);
      cmd.rangeVector = true;
      continue;
    }
    if (def.startsWith('expect string')) {
      const rest = def.slice('expect string'.length).trim();
      if (rest === '') throw new ScriptError(i + 1, 'expected string literal not valid - a quoted string literal is required');
      cmd.expectedString = readQuoted(rest, 0)[0];
      cmd.rangeVector = true;
      continue;
    }
    if (def.split(' ')[0] === 'expect') {
      cmd.expectations.push(parseExpect(def, i + 1));
      continue;
    }
    const n = parseNumber(def);
    if (n !== undefined) {
      cmd.expectedScalar = n;
      break;
    }
    try {
      const desc = parseSeriesDesc(def);
      cmd.expected.push({ labels: desc.labels, values: desc.values, pos: pos++ });
    } catch (e) {
      if (e instanceof SeriesDescError) throw new ScriptError(i + 1, e.message);
      throw e;
    }
  }
  return [cmd, i];
}

function replaceFail(cmd: EvalCommand, e: Expectation): void {
  cmd.expectations = cmd.expectations.filter((x) => x.kind !== 'fail');
  cmd.expectations.push(e);
}

function base(line: number, query: string, instant: boolean, startMs: number, endMs: number, stepMs: number): EvalCommand {
  return {
    kind: 'eval',
    line,
    query,
    instant,
    startMs,
    endMs,
    stepMs,
    expectations: [],
    expected: [],
    expectedScalar: undefined,
    expectedString: undefined,
    rangeVector: false,
  };
}

/** Reads a whole test script into its commands, in order. */
export function parseScript(input: string): Command[] {
  const ls = lines(input);
  const cmds: Command[] = [];
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (l === '') continue;
    const word = l.split(/[ \t]+/, 1)[0]!.toLowerCase();
    if (word === 'clear') {
      cmds.push({ kind: 'clear', line: i + 1 });
    } else if (word.startsWith('load')) {
      const [cmd, next] = parseLoad(ls, i);
      cmds.push(cmd);
      i = next;
    } else if (word.startsWith('eval')) {
      const [cmd, next] = parseEval(ls, i);
      cmds.push(cmd);
      i = next;
    } else {
      throw new ScriptError(i + 1, `invalid command ${JSON.stringify(l)}`);
    }
  }
  return cmds;
}

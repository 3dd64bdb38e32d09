import { describe, expect, it } from 'vitest';
import { runScript } from '../../../src/promql/conformance/runner.js';
import { parseScript, type LoadCommand } from '../../../src/promql/conformance/script.js';
import { parseStartOffsets } from '../../../src/promql/conformance/start-offsets.js';

describe('@st lines', () => {
  it('reads omitted positions, single offsets, repeats and steps', () => {
    expect(parseStartOffsets('_ _x2 -1m 0 1ms -0ms +1m')).toEqual([undefined, undefined, undefined, -60_000, 0, 1, -0, 60_000]);
    expect(parseStartOffsets('-30s-1mx2')).toEqual([-30_000, -90_000, -150_000]);
    expect(parseStartOffsets('1s+1sx2 -59999msx1')).toEqual([1000, 2000, 3000, -59_999, -59_999]);
  });

  it('rejects malformed items, naming them', () => {
    expect(() => parseStartOffsets('-1m30s')).toThrow('invalid start timestamp item "-1m30s"');
    expect(() => parseStartOffsets('_x0')).toThrow('"_x0"');
    expect(() => parseStartOffsets('1m+')).toThrow('"1m+"');
    expect(() => parseStartOffsets('abc')).toThrow('"abc"');
  });

  it('attaches the offsets to the sample line that follows', () => {
    const [load] = parseScript('load 1m\n  a@st _ -1m\n  a 1 2\n  b 1 2\n') as [LoadCommand];
    expect(load.series.map((s) => s.startOffsets)).toEqual([[undefined, -60_000], undefined]);
  });

  it.each([
    ['a different metric', 'load 1m\n  a@st -1m\n  b 1\n', '@st metric does not match the following sample line metric'],
    ['a different length', 'load 1m\n  a@st -1m -1m\n  a 1\n', '@st line has 2 values but sample line has 1'],
    ['no sample line', 'load 1m\n  a@st -1m\n', '@st line has no following sample line'],
    ['two @st lines in a row', 'load 1m\n  a@st -1m\n  a@st -1m\n  a 1\n', '@st line has no following sample line'],
  ])('fails a script whose @st line has %s', (_what, script, message) => {
    const report = runScript('st.test', script);
    expect(report.outcomes).toMatchObject([{ status: 'failed', line: 2 }]);
    expect(report.outcomes[0]!.reason).toContain(message);
  });
});

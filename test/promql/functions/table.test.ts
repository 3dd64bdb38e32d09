import { describe, expect, it } from 'vitest';
import { FUNCTIONS, functionNamed } from '../../../src/promql/functions/table.js';

describe('the function table', () => {
  it('has every function of Prometheus 3.x, each with its signature and implementation', () => {
    expect(Object.keys(FUNCTIONS)).toHaveLength(90);
    expect(FUNCTIONS.label_join).toMatchObject({
      argTypes: ['vector', 'string', 'string', 'string'],
      variadic: -1,
      returnType: 'vector',
      impl: { kind: 'relabel' },
    });
    expect(FUNCTIONS.time).toMatchObject({ argTypes: [], returnType: 'scalar', impl: { kind: 'step' } });
    expect(functionNamed('toString')).toBeUndefined();
  });

  it('says what a range function does with its windows', () => {
    expect(FUNCTIONS.rate!.impl).toMatchObject({ kind: 'range', anchored: true, smoothed: true, startTimes: true, keepsName: false });
    expect(FUNCTIONS.changes!.impl).toMatchObject({ kind: 'range', anchored: true, smoothed: false, startTimes: false });
    expect(FUNCTIONS.last_over_time!.impl).toMatchObject({ kind: 'range', keepsName: true });
    const anchored = Object.keys(FUNCTIONS).filter((n) => {
      const impl = FUNCTIONS[n]!.impl;
      return impl.kind === 'range' && impl.anchored;
    });
    expect(anchored.sort()).toEqual(['changes', 'delta', 'increase', 'rate', 'resets']);
  });

  it('flags the functions the tree analyses treat apart', () => {
    const flagged = (flag: 'timeDependent' | 'keepsOrder' | 'inDurations'): string[] => Object.keys(FUNCTIONS).filter((n) => FUNCTIONS[n]![flag] === true);
    expect(flagged('inDurations')).toEqual(['max_of', 'min_of', 'range', 'step']);
    expect(flagged('keepsOrder')).toEqual(['label_join', 'label_replace', 'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc']);
    expect(flagged('timeDependent')).toEqual(expect.arrayContaining(['time', 'timestamp', 'hour', 'predict_linear']));
    expect(FUNCTIONS.abs!.timeDependent).toBeUndefined();
  });
});

import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/common/errors.js';
import { metadataKey, parseTrigger } from '../../src/scaler/trigger.js';

const ref = (scalerMetadata: Record<string, string>) => ({ name: 'gateway', namespace: 'obs', scalerMetadata });

function failure(meta: Record<string, string>): UserError {
  try {
    parseTrigger(ref(meta));
  } catch (e) {
    return e as UserError;
  }
  throw new Error('expected parseTrigger to fail');
}

describe('trigger metadata', () => {
  it('reads the keys and their aliases, ignoring unknown keys', () => {
    const spec = parseTrigger(
      ref({ query: 'sum(x)', threshold: '10', activationThreshold: '2', clampMin: '1', clampMax: '50', scalerAddress: 'a:4318', valueIfNotFound: '3' }),
    );
    expect(spec).toMatchObject({ query: 'sum(x)', targetValue: 10, activationTargetValue: 2, clampMin: 1, clampMax: 50, ifNotFound: 3 });
    const own = parseTrigger(ref({ metricQuery: 'sum(y)', targetValue: '2.5' }));
    expect(own).toMatchObject({ query: 'sum(y)', targetValue: 2.5, activationTargetValue: 0, clampMin: undefined, ifNotFound: undefined });
  });

  it("reads errorIfNotFound, or Kedify's errIfNotFound, and refuses it together with valueIfNotFound", () => {
    const meta = { metricQuery: 'sum(x)', targetValue: '1' };
    expect(parseTrigger(ref({ ...meta, errorIfNotFound: 'true' })).ifNotFound).toBe('error');
    expect(parseTrigger(ref({ ...meta, errIfNotFound: 'true' })).ifNotFound).toBe('error');
    expect(parseTrigger(ref({ ...meta, errIfNotFound: 'false' })).ifNotFound).toBe(0);
    expect(parseTrigger(ref({ ...meta, errIfNotFound: 'false', valueIfNotFound: '2' })).ifNotFound).toBe(2);
    expect(failure({ ...meta, errIfNotFound: 'yes' }).message).toMatch(/"errIfNotFound": must be "true" or "false", got "yes"/);
    expect(failure({ ...meta, errorIfNotFound: 'true', valueIfNotFound: '0' }).message).toMatch(
      /"errorIfNotFound": is "true", which contradicts valueIfNotFound/,
    );
  });

  it('derives a stable, valid metric name unless one is given', () => {
    const a = parseTrigger(ref({ metricQuery: 'sum(x)', targetValue: '1' })).metricName;
    expect(a).toMatch(/^otlp-gateway-[0-9a-f]{8}$/);
    expect(parseTrigger(ref({ metricQuery: 'sum(x)', targetValue: '1' })).metricName).toBe(a);
    expect(parseTrigger(ref({ metricQuery: 'sum(y)', targetValue: '1' })).metricName).not.toBe(a);
    expect(parseTrigger(ref({ metricQuery: 'sum(x)', targetValue: '1', metricName: 'spans-rate' })).metricName).toBe('spans-rate');
  });

  it('answers INVALID_ARGUMENT naming the key for missing or bad values', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ targetValue: '1' }, /"metricQuery".*required/],
      [{ metricQuery: 'x' }, /"targetValue".*required/],
      [{ metricQuery: 'x', targetValue: 'ten' }, /"targetValue".*not a finite number/],
      [{ metricQuery: 'x', threshold: '0' }, /"threshold".*greater than 0/],
      [{ metricQuery: 'x', targetValue: '1', activationTargetValue: 'NaN' }, /"activationTargetValue"/],
      [{ metricQuery: 'x', targetValue: '1', clampMin: '5', clampMax: '1' }, /"clampMin".*clampMax/],
      [{ metricQuery: 'x', targetValue: '1', metricName: 'bad name!' }, /"metricName"/],
      [{ metricQuery: 'x', targetValue: '1', operationOverTime: 'median' }, /"operationOverTime".*one of/],
    ];
    for (const [meta, message] of cases) {
      const err = failure(meta);
      expect(err).toBeInstanceOf(UserError);
      expect(err.kind.grpc).toBe(status.INVALID_ARGUMENT);
      expect(err.message).toMatch(message);
    }
  });

  it('keys the cache by metadata content, not key order', () => {
    const a = metadataKey(ref({ metricQuery: 'x', targetValue: '1' }));
    const b = metadataKey(ref({ targetValue: '1', metricQuery: 'x' }));
    expect(a).toBe(b);
    expect(metadataKey(ref({ metricQuery: 'x', targetValue: '2' }))).not.toBe(a);
  });
});

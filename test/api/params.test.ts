import { describe, expect, it } from 'vitest';
import { MAX_TIME_MS, MIN_TIME_MS, parseDuration, parseTime } from '../../src/api/params.js';

describe('time parameters, in every form the Prometheus API takes', () => {
  it('reads float Unix seconds, rounding the fraction to ms as Prometheus does', () => {
    expect(parseTime('1700000000')).toBe(1_700_000_000_000);
    expect(parseTime('1700000000.123')).toBe(1_700_000_000_123);
    expect(parseTime('1700000000.1236')).toBe(1_700_000_000_124);
    expect(parseTime('1.7e9')).toBe(1_700_000_000_000);
    expect(parseTime('+4')).toBe(4000);
    expect(parseTime('-1.5')).toBe(-1500);
    expect(parseTime('.5')).toBe(500);
    expect(parseTime('0')).toBe(0);
  });

  it('reads RFC 3339 with any fraction (truncated to ms) and offsets', () => {
    expect(parseTime('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000);
    expect(parseTime('2023-11-14T22:13:20.123456789Z')).toBe(1_700_000_000_123);
    expect(parseTime('2023-11-15T00:13:20.5+02:00')).toBe(1_700_000_000_500);
    expect(parseTime('2023-11-14T17:13:20-05:00')).toBe(1_700_000_000_000);
    expect(parseTime('0001-01-01T00:00:00Z')).toBe(Date.UTC(2000, 0, 1) - 730_119 * 86_400_000);
    expect(parseTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it("reads Prometheus's own min and max time texts, and their float-second forms from client_golang", () => {
    expect(parseTime('-292273086-05-16T16:47:06Z')).toBe(MIN_TIME_MS);
    expect(parseTime('292277025-08-18T07:12:54.999999999Z')).toBe(MAX_TIME_MS);
    expect(parseTime('-9223309901257974')).toBe(MIN_TIME_MS);
    expect(parseTime('9223309901257974')).toBe(MAX_TIME_MS - 999);
  });

  it('rejects anything else with the text Prometheus uses', () => {
    for (const bad of ['', 'now', '2023-11-14', '2023-11-14 22:13:20Z', '2023-02-30T00:00:00Z', '2023-11-14T24:00:00Z', 'Inf', 'NaN', '1e999', '0x10']) {
      expect(() => parseTime(bad), bad).toThrow(`cannot parse ${JSON.stringify(bad)} to a valid timestamp`);
    }
  });
});

describe('duration parameters', () => {
  it('reads float seconds and Prometheus durations with units in order', () => {
    expect(parseDuration('15')).toBe(15_000);
    expect(parseDuration('0.5')).toBe(500);
    expect(parseDuration('1e1')).toBe(10_000);
    expect(parseDuration('-5')).toBe(-5000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1y2w3d4h5m6s7ms')).toBe(31_536_000_000 + 2 * 604_800_000 + 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6000 + 7);
    expect(parseDuration('250ms')).toBe(250);
  });

  it('rejects units out of order, unknown units, empty text and overflows', () => {
    for (const bad of ['', '5x', '30s1m', '1.5h', 'm', '-1m']) {
      expect(() => parseDuration(bad), bad).toThrow(`cannot parse ${JSON.stringify(bad)} to a valid duration`);
    }
    expect(() => parseDuration('1e10')).toThrow('cannot parse "1e10" to a valid duration. It overflows int64');
  });
});

/** A key with its value rendered as a label value would be. */
export interface Attribute {
  key: string;
  value: string;
}

/**
 * An attribute value as both decoders hand it over, before it becomes a label value:
 * string, boolean, double (number), int64 (bigint, exact), bytes, array, key/value list (Map),
 * or null for an AnyValue with nothing set.
 */
/** Deepest nesting of arrays and key/value lists accepted in one attribute value. */
export const MAX_VALUE_DEPTH = 32;

export type RawValue = string | boolean | number | bigint | Uint8Array | RawValue[] | Map<string, RawValue> | null;

/**
 * The label value of an attribute, as the OpenTelemetry Collector's `AsString` (which Prometheus
 * uses) renders it: doubles in the ECMAScript number format, bytes in base64, arrays and
 * key/value lists as JSON.
 */
export function renderValue(v: RawValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return renderDouble(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return renderJson(v);
}

function renderDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function renderJson(v: RawValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (v instanceof Uint8Array) return JSON.stringify(renderValue(v));
  if (Array.isArray(v)) return `[${v.map(renderJson).join(',')}]`;
  // Keys sorted, as Go's encoding/json writes maps.
  const keys = [...v.keys()].sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${renderJson(v.get(k)!)}`).join(',')}}`;
}

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseBytes, parseDurationMs, SETTINGS } from '../../src/config.js';
import { CHART_DIR, EXAMPLES_DIR, findRenderer, readYaml, renderText } from './render.js';

type Values = Record<string, unknown>;

const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Record<string, any>;
const validate: ValidateFunction = new Ajv({ allErrors: true, strict: true, strictTypes: false }).compile(schema);
const defaults = readYaml<Values>(join(CHART_DIR, 'values.yaml'));

/** Helm's coalescing: maps merge, other values replace, and null deletes the key. */
function merge(base: Values, over: Values): Values {
  const out: Values = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(current)) out[key] = merge(current, value);
    else out[key] = value;
  }
  return out;
}
function isMap(v: unknown): v is Values {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
function withOverride(over: Values): Values {
  return merge(defaults, over);
}
function errorsOf(values: Values): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('values.schema.json', () => {
  it('accepts the default values', () => {
    expect(errorsOf(defaults)).toEqual([]);
  });

  const examples = readdirSync(EXAMPLES_DIR).filter((f) => /^values-.*\.ya?ml$/.test(f));
  for (const file of examples) {
    it(`accepts the defaults merged with examples/${file}`, () => {
      expect(errorsOf(withOverride(readYaml<Values>(join(EXAMPLES_DIR, file))))).toEqual([]);
    });
  }

  const rejected: [string, Values, RegExp][] = [
    ['a string replica count', { replicaCount: 'one' }, /\/replicaCount must be integer/],
    ['a string series limit', { config: { maxSeries: 'lots' } }, /\/config\/maxSeries must be integer/],
    ['a zero series limit', { config: { maxSeries: 0 } }, /\/config\/maxSeries must be >= 1/],
    ['a duration in words', { config: { retention: '10 minutes' } }, /\/config\/retention must match pattern/],
    ['a duration as a number', { config: { lookbackDelta: 60 } }, /\/config\/lookbackDelta must be string/],
    ['an unknown log level', { config: { logLevel: 'verbose' } }, /\/config\/logLevel must be equal to one of the allowed values/],
    ['the pretty log format the image cannot load', { config: { logFormat: 'pretty' } }, /\/config\/logFormat must be equal to one of the allowed values/],
    ['an unknown name translation', { config: { nameTranslation: 'Legacy' } }, /\/config\/nameTranslation must be equal to one of the allowed values/],
    ['a string boolean', { tls: { enabled: 'yes' } }, /\/tls\/enabled must be boolean/],
    ['a port out of range', { ports: { http: 70000 } }, /\/ports\/http must be <= 65535/],
    ['a size with a bad suffix', { config: { maxRequestBytes: '4M' } }, /\/config\/maxRequestBytes must match exactly one schema in oneOf/],
    ['a misspelt top-level key', { replicas: 2 }, /must NOT have additional properties/],
    ['a misspelt setting', { config: { retension: '5m' } }, /\/config must NOT have additional properties/],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, /\/image\/pullPolicy must be equal to one of the allowed values/],
    ['a PDB percentage without %', { podDisruptionBudget: { maxUnavailable: '50' } }, /\/podDisruptionBudget\/maxUnavailable must match exactly one schema in oneOf/],
    ['a relative data dir mount path', { persistence: { mountPath: 'data' } }, /\/persistence\/mountPath must match pattern/],
    ['a claim size without a unit pattern', { persistence: { claim: { size: '1 GB' } } }, /\/persistence\/claim\/size must match pattern/],
    ['a duration in words for the snapshot interval', { config: { snapshotInterval: 'half a minute' } }, /\/config\/snapshotInterval must match pattern/],
    ['a relative TLS mount path', { tls: { mountPath: 'tls' } }, /\/tls\/mountPath must match pattern/],
    ['a string user id', { securityContext: { runAsUser: 'app' } }, /\/securityContext\/runAsUser must be integer/],
    ['an unknown seccomp profile type', { podSecurityContext: { seccompProfile: { type: 'Strict' } } }, /\/podSecurityContext\/seccompProfile\/type must be equal to one of the allowed values/],
    ['a misspelt resources key', { resources: { limit: { memory: '1Gi' } } }, /\/resources must NOT have additional properties/],
    ['an unknown strategy type', { strategy: { type: 'BlueGreen' } }, /\/strategy\/type must be equal to one of the allowed values/],
  ];
  for (const [what, over, message] of rejected) {
    it(`rejects ${what}`, () => {
      const errors = errorsOf(withOverride(over));
      expect(errors.join('\n')).toMatch(message);
    });
  }

  it('documents every program setting by its environment variable', () => {
    const text = JSON.stringify(schema);
    const tls = new Set(['SCALER_TLS_CERT_FILE', 'SCALER_TLS_KEY_FILE', 'SCALER_TLS_CA_FILE']);
    const missing = SETTINGS.filter((s) => !tls.has(s.env) && !text.includes(s.env)).map((s) => s.env);
    expect(missing).toEqual([]);
  });

  /** Each text is valid for the setting's schema exactly when the program's `parse` reads it. */
  function expectSchemaAgrees(setting: string, parse: (text: string) => number, texts: string[]): void {
    const check = new Ajv({ strict: false }).compile(schema.properties.config.properties[setting]);
    for (const text of texts) {
      let parses = true;
      try {
        parse(text);
      } catch {
        parses = false;
      }
      expect(check(text), JSON.stringify(text)).toBe(parses);
    }
  }

  it('accepts exactly the durations the program parses', () => {
    expectSchemaAgrees('retention', parseDurationMs, ['10m', '1h30m', '500ms', '90', '1.5', '2d', '1w', '10 m', 'm', '10mm', '30m1h', '1m1m', '1h 30m', '', '-5s', '5S']);
  });

  it('accepts exactly the sizes the program parses', () => {
    expectSchemaAgrees('maxRequestBytes', parseBytes, ['4MiB', '512KiB', '1048576', '1GiB', '4mib', '1.5MiB', '4 MiB', '10KB', '7B', '4M', 'x', '', 'MiB', '4MiBs']);
  });
});

const found = findRenderer();
describe.skipIf(found.kind !== 'helm')('helm applies values.schema.json', () => {
  it('fails `helm template` on a value of the wrong type', () => {
    if (found.kind !== 'helm') return;
    expect(() => renderText(found, { valueFiles: [] })).not.toThrow();
    const dir = mkdtempSync(join(tmpdir(), 'schema-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'replicaCount: one\n');
    expect(() => renderText(found, { valueFiles: [file] })).toThrow(/replicaCount/);
  });
});

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/common/project-root.js';

/**
 * `npm run lint`, the project's own script with the project's own configs, run on a tiny tree
 * shaped like src/: clean it passes, and each deliberate breach of a rule makes it fail.
 */

const CONFIGS = ['.dependency-cruiser.cjs', 'eslint.config.js', '.prettierrc.json', '.prettierignore', 'tsconfig.json'];

const CLEAN: Record<string, string> = {
  'src/tsdb/db.ts': 'export interface Tsdb {\n  size(): Promise<number>;\n}\n',
  'src/promql/engine.ts':
    "import type { Tsdb } from '../tsdb/db.js';\n\nexport async function count(db: Tsdb): Promise<number> {\n  return await db.size();\n}\n",
  'src/scaler/status.ts': 'export class Status {\n  last = 0;\n}\n',
  'src/scaler/scaler.ts': [
    "import { count } from '../promql/engine.js';",
    "import type { Tsdb } from '../tsdb/db.js';",
    "import type { Status } from './status.js';",
    '',
    'export async function evaluate(db: Tsdb, status: Status): Promise<void> {',
    '  status.last = await count(db);',
    '}',
    '',
  ].join('\n'),
  'src/scaler/service.ts': [
    "import type { Tsdb } from '../tsdb/db.js';",
    "import { evaluate } from './scaler.js';",
    "import { Status } from './status.js';",
    '',
    'export async function onCall(db: Tsdb): Promise<void> {',
    '  await evaluate(db, new Status());',
    '}',
    '',
  ].join('\n'),
};

const BREACHES: Record<string, { files: Record<string, string>; finding: RegExp }> = {
  'an upward import (tsdb imports promql)': {
    files: { 'src/tsdb/db.ts': "import type { count } from '../promql/engine.js';\n\nexport interface Tsdb {\n  size(): ReturnType<typeof count>;\n}\n" },
    finding: /error imports-of-tsdb: src\/tsdb\/db\.ts → src\/promql\/engine\.ts/,
  },
  'a test helper importing src/scaler': {
    files: { 'test/support/client.ts': "export { onCall } from '../../src/scaler/service.js';\n" },
    finding: /error harness-reaches-scaler-over-grpc: test\/support\/client\.ts → src\/scaler\/service\.ts/,
  },
  'a cycle (status imports scaler, scaler imports status)': {
    files: {
      'src/scaler/status.ts': "import type { evaluate } from './scaler.js';\n\nexport class Status {\n  last = 0;\n  by: typeof evaluate | undefined;\n}\n",
    },
    finding: /error no-circular: src\/scaler\/s\w+\.ts →/,
  },
  'a floating promise': {
    files: {
      'src/scaler/service.ts': CLEAN['src/scaler/service.ts']!.replace('  await evaluate(db, new Status());', '  evaluate(db, new Status());'),
    },
    finding: /src\/scaler\/service\.ts\s+6:3\s+error\s+Promises must be awaited.*@typescript-eslint\/no-floating-promises/s,
  },
  'new RegExp( in src/promql': {
    files: {
      'src/promql/regex.ts': 'export function matches(pattern: string, value: string): boolean {\n  return new RegExp(`^(?:${pattern})$`).test(value);\n}\n',
    },
    finding: /src\/promql\/regex\.ts\s+2:10\s+error\s+JS RegExp in src\/promql or src\/tsdb.*no-restricted-syntax/s,
  },
};

const lintScript = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['lint']!;
const dirs: string[] = [];

/** A tree with the project's configs, its packages (linked one by one, so caches stay in the tree) and the given files. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lint-'));
  dirs.push(dir);
  for (const name of CONFIGS) copyFileSync(join(PROJECT_ROOT, name), join(dir, name));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'lint-fixture', private: true, type: 'module', scripts: { lint: lintScript } }));
  mkdirSync(join(dir, 'node_modules'));
  for (const entry of readdirSync(join(PROJECT_ROOT, 'node_modules'))) {
    if (entry !== '.cache') symlinkSync(join(PROJECT_ROOT, 'node_modules', entry), join(dir, 'node_modules', entry));
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function npmRunLint(dir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'lint'], { cwd: dir, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const results = new Map<string, { code: number | null; output: string }>();

beforeAll(async () => {
  const cases: [string, Record<string, string>][] = [
    ['clean', CLEAN],
    ...Object.entries(BREACHES).map(([name, b]) => [name, { ...CLEAN, ...b.files }] as [string, Record<string, string>]),
  ];
  const runs = await Promise.all(cases.map(([, files]) => npmRunLint(tree(files))));
  cases.forEach(([name], i) => results.set(name, runs[i]!));
}, 300_000);

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run lint', () => {
  it('passes the clean tree', () => {
    const r = results.get('clean')!;
    expect(r.output).not.toMatch(/error/);
    expect(r.code).toBe(0);
  });

  for (const [name, breach] of Object.entries(BREACHES)) {
    it(`fails on ${name}, naming the rule`, () => {
      const r = results.get(name)!;
      expect(r.output).toMatch(breach.finding);
      expect(r.code).not.toBe(0);
    });
  }
});

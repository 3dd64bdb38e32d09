import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART_DIR = join(ROOT, 'helm/keda-otlp-scaler');
export const EXAMPLES_DIR = join(ROOT, 'examples');
const MINIHELM_DIR = resolve(ROOT, '../shared/tools/minihelm');
const MINIHELM_BUILD = join(MINIHELM_DIR, 'build.sh');
const MINIHELM_CACHE = join(tmpdir(), 'keda-otlp-scaler-minihelm', `minihelm-${sourceHash()}`);
const BUILD_WAIT_MS = 10 * 60_000;

export interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export type Renderer =
  | { kind: 'helm'; bin: string }
  | { kind: 'minihelm'; bin: string };

/**
 * The cached binary is named after its sources: it outlives `npm ci` in the temporary folder,
 * and a changed minihelm is rebuilt instead of reused.
 */
function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'build.sh']) {
    const path = join(MINIHELM_DIR, file);
    hash.update(existsSync(path) ? readFileSync(path) : `missing ${file}`);
  }
  return hash.digest('hex').slice(0, 16);
}

function onPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds minihelm once for every test file: the first process to take the lock builds into a
 * temporary name and renames it into place, the others wait for the file to appear.
 */
function buildMinihelm(): string {
  if (existsSync(MINIHELM_CACHE)) return MINIHELM_CACHE;
  mkdirSync(dirname(MINIHELM_CACHE), { recursive: true });
  const lock = `${MINIHELM_CACHE}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    const deadline = Date.now() + BUILD_WAIT_MS;
    while (Date.now() < deadline) {
      if (existsSync(MINIHELM_CACHE)) return MINIHELM_CACHE;
      if (!existsSync(lock)) break;
      // A lock left by a killed build would otherwise block every later run.
      if (Date.now() - statSync(lock).mtimeMs > BUILD_WAIT_MS) rmSync(lock, { recursive: true, force: true });
      sleep(500);
    }
    if (existsSync(MINIHELM_CACHE)) return MINIHELM_CACHE;
    throw new Error('another test process was building minihelm and did not finish');
  }
  try {
    if (!existsSync(MINIHELM_BUILD)) throw new Error(`${MINIHELM_BUILD} is missing`);
    const partial = `${MINIHELM_CACHE}.${process.pid}`;
    execFileSync('bash', [MINIHELM_BUILD, partial], { stdio: ['ignore', 'pipe', 'pipe'], timeout: BUILD_WAIT_MS });
    renameSync(partial, MINIHELM_CACHE);
    return MINIHELM_CACHE;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `helm` when installed, else minihelm (built on first use); a reason when neither can be had. */
export function findRenderer(): Renderer | { kind: 'none'; reason: string } {
  const helm = onPath('helm');
  if (helm) return { kind: 'helm', bin: helm };
  try {
    return { kind: 'minihelm', bin: buildMinihelm() };
  } catch (e) {
    return { kind: 'none', reason: `no helm on PATH and minihelm could not be built: ${(e as Error).message}` };
  }
}

export interface RenderOptions {
  valueFiles?: readonly string[];
  chartDir?: string;
  release?: string;
  namespace?: string;
}

/** The chart's manifests, as `helm template` prints them. Throws with the renderer's message on failure. */
export function renderText(renderer: Renderer, opts: RenderOptions = {}): string {
  const release = opts.release ?? 'keda-otlp-scaler';
  const namespace = opts.namespace ?? 'keda';
  const chart = opts.chartDir ?? CHART_DIR;
  const files = (opts.valueFiles ?? []).flatMap((f) => ['-f', f]);
  const args =
    renderer.kind === 'helm'
      ? ['template', release, chart, '--namespace', namespace, ...files]
      : ['-name', release, '-namespace', namespace, ...files, chart];
  const run = spawnSync(renderer.bin, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`render failed: ${run.stderr.trim() || run.stdout.trim()}`);
  return run.stdout;
}

export function parseDocs(text: string): K8sDoc[] {
  const docs: K8sDoc[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as K8sDoc | null;
    if (value !== null) docs.push(value);
  }
  return docs;
}

export function render(renderer: Renderer, opts: RenderOptions = {}): K8sDoc[] {
  return parseDocs(renderText(renderer, opts));
}

export function readYaml<T = unknown>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

export function findDoc(docs: readonly K8sDoc[], kind: string): K8sDoc {
  const doc = docs.find((d) => d.kind === kind);
  if (!doc) throw new Error(`no ${kind} among ${docs.map((d) => d.kind).join(', ')}`);
  return doc;
}

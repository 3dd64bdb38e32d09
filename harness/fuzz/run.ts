import { CaseFactory, type CaseLimits } from './cases.js';
import { checkAlive, expectedKedaValue, pushCanary, readCanary, type CanaryReading, type Ports } from './canary.js';
import { judge } from './judge.js';
import { Rng } from './rng.js';
import { Sender } from './send.js';

export interface FuzzOptions {
  host: string;
  ports: Ports;
  limits: CaseLimits;
  cases: number;
  /** Stop after this long even if cases remain. */
  seconds: number;
  seed: number;
  /** Longer than this without a reply is a hang. */
  timeoutMs: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Asked between cases; a message means the server died (e.g. its process exited). */
  serverGone?: () => string | undefined;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  queries: number;
  /** Queries refused as malformed, each with a parse error naming position and cause. */
  parseErrors: number;
  seconds: number;
  byKind: Record<string, Record<string, number>>;
  faults: number;
  /** The first faults, in full. */
  faultExamples: string[];
  hangs: number;
  crashed: string | undefined;
  alive: string[];
  canaryBefore: CanaryReading;
  canaryAfter: CanaryReading | undefined;
  canaryIntact: boolean;
}

const FAULT_EXAMPLES = 20;

/** Pushes the canary, sends random cases, then checks the server is alive and the canary unchanged. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  await pushCanary(o.host, o.ports);
  const canaryBefore = await readCanary(o.host, o.ports);
  if (canaryBefore.series.length !== 3 || !expectedKedaValue(canaryBefore.kedaValue)) {
    throw new Error(`canary not stored as pushed: ${JSON.stringify(canaryBefore)}`);
  }

  const factory = new CaseFactory(new Rng(o.seed), o.limits);
  const sender = new Sender(o.host, o.ports, o.timeoutMs);
  const byKind: Record<string, Record<string, number>> = {};
  const faultExamples: string[] = [];
  let faults = 0;
  let hangs = 0;
  let sent = 0;
  let queries = 0;
  let parseErrors = 0;
  let crashed: string | undefined;
  const started = Date.now();
  const deadline = started + o.seconds * 1000;

  const worker = async () => {
    while (sent < o.cases && Date.now() < deadline && crashed === undefined) {
      const c = factory.next();
      sent++;
      if (c.query !== undefined) queries++;
      const verdict = judge(c, await sender.send(c));
      const counts = (byKind[c.kind] ??= {});
      counts[verdict.outcome] = (counts[verdict.outcome] ?? 0) + 1;
      if (verdict.outcome === 'hang') hangs++;
      if (verdict.parseError) parseErrors++;
      if (verdict.fault !== undefined) {
        faults++;
        if (faultExamples.length < FAULT_EXAMPLES) faultExamples.push(verdict.fault);
      }
      crashed ??= o.serverGone?.();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  sender.close();

  crashed ??= o.serverGone?.();
  const alive = crashed ? [`server gone: ${crashed}`] : await checkAlive(o.host, o.ports);
  let canaryAfter: CanaryReading | undefined;
  if (!crashed) canaryAfter = await readCanary(o.host, o.ports).catch(() => undefined);
  const canaryIntact = canaryAfter !== undefined && JSON.stringify(canaryAfter) === JSON.stringify(canaryBefore);
  return {
    seed: o.seed,
    cases: sent,
    queries,
    parseErrors,
    seconds,
    byKind,
    faults,
    faultExamples,
    hangs,
    crashed,
    alive,
    canaryBefore,
    canaryAfter,
    canaryIntact,
  };
}

/** Whether the run found nothing wrong. */
export function fuzzPassed(r: FuzzReport): boolean {
  return r.faults === 0 && r.hangs === 0 && r.crashed === undefined && r.alive.length === 0 && r.canaryIntact;
}

export function formatFuzzReport(r: FuzzReport): string {
  const lines = [
    `fuzz: ${r.cases} cases (${r.queries} PromQL queries, ${r.parseErrors} refused as malformed with position and cause) in ${r.seconds.toFixed(1)}s, seed ${r.seed}`,
    `  faults ${r.faults}, hangs ${r.hangs}, crash ${r.crashed ?? 'none'}, alive ${r.alive.length === 0 ? 'yes' : r.alive.join('; ')}`,
    `  canary ${r.canaryIntact ? 'intact' : 'CHANGED'}: before ${JSON.stringify(r.canaryBefore)}${r.canaryIntact ? '' : `, after ${JSON.stringify(r.canaryAfter)}`}`,
    '  by kind (outcome: count):',
  ];
  for (const kind of Object.keys(r.byKind).sort()) {
    const counts = r.byKind[kind]!;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const parts = Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`);
    lines.push(`    ${kind.padEnd(26)} ${String(total).padStart(7)}  ${parts.join(', ')}`);
  }
  for (const f of r.faultExamples) lines.push(`  FAULT ${f}`);
  return lines.join('\n');
}

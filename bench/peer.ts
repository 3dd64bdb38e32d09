import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the bench reads from one line of the peer harness's output. */
export interface PeerResult {
  prometheus: string;
  series: number;
  ingest: { samples_per_s: number; append_only_samples_per_s: number; prom_cpu_us_per_sample: number };
  memory: { heap_inuse_bytes_per_series_post_gc: { delta_vs_empty: number } };
  queries: Record<string, { p50_ms: number; p99_ms: number; sample_value: number | null; result_series: number }>;
}

function ensurePrometheus(bin: string): void {
  if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0) return;
  console.error(`[peer] ${bin} not found: installing Debian's prometheus package`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args: string[]) => execFileSync(sudo[0] ?? args[0]!, sudo.length ? args : args.slice(1), { stdio: 'inherit' });
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', '--no-install-recommends', 'prometheus']);
}

/**
 * Runs the shared Prometheus harness, unchanged, from a scratch copy (its folder is read-only
 * and it needs its own node_modules), once for each N, with the same batch and concurrency.
 */
export function runPeer(peerDir: string, sizes: readonly number[], batch: number, concurrency: number, bin = 'prometheus'): Map<number, PeerResult> {
  ensurePrometheus(bin);
  const dir = mkdtempSync(join(tmpdir(), 'otlp-scaler-peer-'));
  try {
    cpSync(peerDir, dir, { recursive: true });
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const out = new Map<number, PeerResult>();
    for (const n of sizes) {
      console.error(`[peer] Prometheus with N=${n}`);
      const stdout = execFileSync(
        'node',
        ['bench.mjs', '--series', String(n), '--batch', String(batch), '--concurrency', String(concurrency), '--prom-bin', bin],
        { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
      );
      out.set(n, JSON.parse(stdout.trim().split('\n').pop()!) as PeerResult);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

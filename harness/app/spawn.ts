import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { BoundPorts } from '../../src/server/app.js';

/** The scaler as production runs it: its own process, configured by environment, ports read from its log. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly ports: BoundPorts;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** Why the process is gone, or undefined while it runs. */
  gone(): string | undefined;
  /** Resident set size now, from /proc. */
  rssBytes(): number;
  /** The most resident memory the process has had so far (VmHWM), from /proc. */
  peakRssBytes(): number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

export interface SpawnOptions {
  /** The entry module and node flags before it; defaults to the built dist/src/main.js. */
  entry: string;
  execArgv?: string[];
  env?: Record<string, string>;
  /** Give up waiting for the listening line after this long. */
  startTimeoutMs?: number;
  /** Called with each JSON log line as it comes, also before the process listens. */
  onLog?: (entry: Record<string, unknown>) => void;
}

const LISTENING = 'keda-otlp-scaler listening';

/** Starts the scaler on ephemeral loopback ports and waits for the log line naming its ports. */
export function spawnServer(o: SpawnOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(o.execArgv ?? []), o.entry], {
    env: {
      ...process.env,
      SCALER_LISTEN_ADDRESS: '127.0.0.1',
      SCALER_OTLP_GRPC_PORT: '0',
      SCALER_OTLP_HTTP_PORT: '0',
      SCALER_HTTP_PORT: '0',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let exitReason: string | undefined;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 64 * 1024) stderr += d;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      exitReason = `exited with ${code ?? signal}${stderr ? `: ${stderr.slice(0, 2000)}` : ''}`;
      resolve(code ?? signal ?? -1);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the scaler did not log "${LISTENING}" in time; stderr: ${stderr}`));
    }, o.startTimeoutMs ?? 30_000);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the scaler ${exitReason} before listening`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      o.onLog?.(entry);
      if (entry.msg !== LISTENING) return;
      clearTimeout(timer);
      resolve({
        child,
        ports: entry.ports as BoundPorts,
        logs,
        gone: () => exitReason,
        rssBytes: () => procRssBytes(child.pid!),
        peakRssBytes: () => procRssBytes(child.pid!, 'VmHWM'),
        exited,
      });
    });
  });
}

/** VmRSS (or the peak, VmHWM) of a process, from /proc/<pid>/status; 0 once it is gone. */
export function procRssBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

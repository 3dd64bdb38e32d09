import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';
import type { BoundPorts } from '../../src/server/app.js';
import type { ServerStats } from './child-process.js';

export type { ServerStats } from './child-process.js';

/** Parent side of child-process.ts: start the scaler in its own process, ask for its stats, stop it. */
export class AppChild {
  private stopping = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly ports: BoundPorts,
  ) {}

  static start(config: Partial<Config> = {}): Promise<AppChild> {
    const child = fork(fileURLToPath(new URL('./child-process.js', import.meta.url)), [], {
      execArgv: ['--expose-gc', '--no-warnings'],
      env: { ...process.env, HARNESS_APP_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`scaler process exited with ${code} before it was ready`)));
      child.once('message', (msg: { type: string; ports: BoundPorts }) => {
        child.removeAllListeners('exit');
        resolve(new AppChild(child, msg.ports));
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Calls `crashed` if the process exits before stop() was asked. */
  onCrash(crashed: (why: string) => void): void {
    this.child.once('exit', (code, signal) => {
      if (!this.stopping) crashed(`the scaler exited with ${code ?? signal}`);
    });
  }

  /** Memory, series and event-loop delay since the last call; after a forced GC when `gc`. */
  stats(gc = false): Promise<ServerStats> {
    return new Promise((resolve) => {
      const onMessage = (msg: { type: string; stats: ServerStats }) => {
        if (msg.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(msg.stats);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats', gc });
    });
  }

  /** CPU seconds the scaler process has used, from /proc (user + system). */
  cpuSeconds(): number {
    return procCpuSeconds(this.pid);
  }

  stop(): Promise<void> {
    this.stopping = true;
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.send({ type: 'close' });
    });
  }
}

export function procCpuSeconds(pid: number): number {
  // utime and stime (fields 14 and 15 of /proc/<pid>/stat, after the command name), in 1/100 s ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

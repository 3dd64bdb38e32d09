import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BoundPorts } from '../src/server/app.js';

export interface ChildMemory extends NodeJS.MemoryUsage {
  series: number;
}

/** Parent side of app-process: start, ask for memory, stop. */
export class AppChild {
  private constructor(
    private readonly child: ChildProcess,
    readonly ports: BoundPorts,
  ) {}

  static start(config: Record<string, unknown> = {}): Promise<AppChild> {
    const child = fork(fileURLToPath(new URL('./app-process.js', import.meta.url)), [], {
      execArgv: ['--expose-gc', '--no-warnings'],
      env: { ...process.env, BENCH_APP_CONFIG: JSON.stringify(config) },
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

  memory(gc: boolean): Promise<ChildMemory> {
    return new Promise((resolve) => {
      const onMessage = (msg: { type: string; memory: ChildMemory }) => {
        if (msg.type !== 'memory') return;
        this.child.off('message', onMessage);
        resolve(msg.memory);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'memory', gc });
    });
  }

  /** CPU seconds the scaler process has used, from /proc (user + system). */
  cpuSeconds(): number {
    return procCpuSeconds(this.pid);
  }

  stop(): Promise<void> {
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

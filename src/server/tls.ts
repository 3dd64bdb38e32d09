import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';

export interface TlsPaths {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate this CA signed. */
  caFile: string | undefined;
}

/**
 * How often the files are read and compared with what was read before. Reading, not inotify or
 * stat polling: cert-manager swaps symlinks, which inotify watches miss, and a stat watcher takes
 * its first look some time after it starts, so a rotation in between (or one within the same
 * timestamp tick and of the same size) would go unseen. Three files of a few KB a second cost nothing.
 */
const POLL_MS = 1_000;

/**
 * The server certificate, key and client CA read from files, read again whenever one of them
 * changes, so a rotated certificate is served to new connections without a restart.
 */
export class TlsFiles {
  private current: SecureContextOptions;
  private readonly subscribers = new Set<(options: SecureContextOptions) => void>();
  /** The files' bytes at the last check, good or not, so each change is acted on (and warned of) once. */
  private lastSeen: SecureContextOptions | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly paths: TlsPaths,
    private readonly log: Logger,
  ) {
    this.current = this.read();
    this.lastSeen = this.current;
    this.timer = setInterval(() => this.check(), POLL_MS);
    this.timer.unref();
  }

  get requireClientCert(): boolean {
    return this.paths.caFile !== undefined;
  }

  get options(): SecureContextOptions {
    return this.current;
  }

  /** Calls back with the new options after every successful reload. */
  subscribe(fn: (options: SecureContextOptions) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  close(): void {
    clearInterval(this.timer);
    this.subscribers.clear();
  }

  private read(): SecureContextOptions {
    const { certFile, keyFile, caFile } = this.paths;
    return {
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      ...(caFile ? { ca: readFileSync(caFile) } : {}),
    };
  }

  private check(): void {
    let next: SecureContextOptions;
    try {
      next = this.read();
    } catch (err) {
      if (this.lastSeen === undefined) return;
      this.lastSeen = undefined;
      // A rotation can be caught half-written; the old files keep serving until the next change.
      this.log.warn({ err }, 'TLS files could not be read; keeping the previous certificate');
      return;
    }
    if (this.lastSeen !== undefined && sameFiles(this.lastSeen, next)) return;
    this.lastSeen = next;
    try {
      // Checked once before any listener takes it, so a cert and key caught mid-rotation
      // (one new, one old) leave every port on the previous pair rather than some on each.
      createSecureContext(next);
    } catch (err) {
      this.log.warn({ err }, 'TLS files did not form a valid certificate and key; keeping the previous ones');
      return;
    }
    this.current = next;
    for (const fn of this.subscribers) fn(next);
    this.log.info({ cert: this.paths.certFile }, 'TLS certificate reloaded');
  }
}

function sameFiles(a: SecureContextOptions, b: SecureContextOptions): boolean {
  const same = (x: unknown, y: unknown) => (x === undefined ? y === undefined : y !== undefined && (x as Buffer).equals(y as Buffer));
  return same(a.cert, b.cert) && same(a.key, b.key) && same(a.ca, b.ca);
}

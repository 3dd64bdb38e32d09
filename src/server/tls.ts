import { readFileSync, unwatchFile, watchFile, type StatsListener } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';

export interface TlsPaths {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate this CA signed. */
  caFile: string | undefined;
}

/** How often the files are checked; stat polling, because cert-manager swaps symlinks, which inotify watches miss. */
const POLL_MS = 1_000;

/**
 * The server certificate, key and client CA read from files, read again whenever one of them
 * changes, so a rotated certificate is served to new connections without a restart.
 */
export class TlsFiles {
  private current: SecureContextOptions;
  private readonly subscribers = new Set<(options: SecureContextOptions) => void>();
  private readonly watched: string[];
  private readonly onStat: StatsListener = (now, before) => {
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) this.reload();
  };

  constructor(
    readonly paths: TlsPaths,
    private readonly log: Logger,
  ) {
    this.current = this.read();
    this.watched = [paths.certFile, paths.keyFile, ...(paths.caFile ? [paths.caFile] : [])];
    for (const file of this.watched) watchFile(file, { interval: POLL_MS, persistent: false }, this.onStat);
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
    // Only our listener: another TlsFiles in the process may watch the same files.
    for (const file of this.watched) unwatchFile(file, this.onStat);
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

  private reload(): void {
    let next: SecureContextOptions;
    try {
      next = this.read();
    } catch (err) {
      // A rotation can be caught half-written; the old files keep serving until the next change.
      this.log.warn({ err }, 'TLS files could not be read; keeping the previous certificate');
      return;
    }
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

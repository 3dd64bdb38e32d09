export interface AdmissionLimits {
  /** Open connections a listener holds at once. */
  maxConnections: number;
  /** Open connections one peer address may hold on a listener. */
  maxPerAddress: number;
}

/**
 * The last slots of a listener are kept for peers holding few connections, so that when many
 * addresses each fill their own share, KEDA (one connection, or a handful while it reconnects)
 * still gets in.
 */
const RESERVE_FRACTION = 1 / 16;
const RESERVE_MAX = 256;
/** A peer holding fewer connections than this may use the reserve. */
const RESERVE_HOLDING_BELOW = 4;

/**
 * Decides, connection by connection, whether a peer may open one more: no address may take more
 * than its share of a listener, and the listener's last slots stay free for newcomers.
 */
export class Admission {
  private readonly held = new Map<string, number>();
  private open = 0;
  private readonly reserveFrom: number;

  constructor(private readonly limits: AdmissionLimits) {
    this.reserveFrom = limits.maxConnections - Math.min(RESERVE_MAX, Math.floor(limits.maxConnections * RESERVE_FRACTION));
  }

  /** Counts a connection from `address` in and returns true, or returns false if it must be closed. */
  admit(address: string): boolean {
    const held = this.held.get(address) ?? 0;
    if (this.open >= this.limits.maxConnections || held >= this.limits.maxPerAddress) return false;
    if (this.open >= this.reserveFrom && held >= RESERVE_HOLDING_BELOW) return false;
    this.held.set(address, held + 1);
    this.open++;
    return true;
  }

  release(address: string): void {
    const held = this.held.get(address) ?? 0;
    if (held <= 1) this.held.delete(address);
    else this.held.set(address, held - 1);
    this.open--;
  }
}

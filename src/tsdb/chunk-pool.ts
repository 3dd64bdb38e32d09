/** Bytes in one block: chunks are chains of blocks, so every block has one size and any freed one serves again. */
export const BLOCK_BYTES = 64;

/** Bytes addressable in one slab: an address is slab index × SLAB_SPAN + offset. */
const SLAB_SPAN = 1 << 20;
/** The first slab is small so that a store holding a few series (a test, a conformance case) costs little. */
const FIRST_SLAB_BYTES = 1 << 14;
/** Offset 0 of slab 0 is never handed out, so address 0 can mean "no block". */
const RESERVED_BYTES = BLOCK_BYTES;

/**
 * The memory of every series' sample chunks: large byte slabs shared by many series, cut into
 * blocks of one size, addressed by a number. One typed array a series cost two heap objects and a
 * backing store each; here a series costs its blocks. Blocks of one size never fragment: chunks
 * grow a block at a time, and a series that grows while others shrink reuses their blocks.
 */
export class ChunkPool {
  /** Slab i holds addresses [i × SLAB_SPAN, i × SLAB_SPAN + its length). */
  readonly slabs: Uint8Array[] = [];
  readonly views: DataView[] = [];
  private top = 0;
  private readonly freed: number[] = [];

  /** A zeroed block. */
  alloc(): number {
    const reused = this.freed.pop();
    if (reused !== undefined) {
      const off = offsetOf(reused);
      this.slabs[slabOf(reused)]!.fill(0, off, off + BLOCK_BYTES);
      return reused;
    }
    let slab = this.slabs.length - 1;
    if (slab < 0 || this.top === this.slabs[slab]!.length) {
      slab++;
      const bytes = new Uint8Array(Math.min(SLAB_SPAN, FIRST_SLAB_BYTES * 2 ** slab));
      this.slabs.push(bytes);
      this.views.push(new DataView(bytes.buffer));
      this.top = slab === 0 ? RESERVED_BYTES : 0;
    }
    const addr = slab * SLAB_SPAN + this.top;
    this.top += BLOCK_BYTES;
    return addr;
  }

  free(addr: number): void {
    this.freed.push(addr);
  }

  /** Bytes in blocks handed out and not freed. */
  get bytesInUse(): number {
    if (this.slabs.length === 0) return 0;
    return this.byteLength - RESERVED_BYTES - (this.slabs[this.slabs.length - 1]!.length - this.top) - BLOCK_BYTES * this.freed.length;
  }

  /** Bytes of slab memory allocated, in use or free. */
  get byteLength(): number {
    let n = 0;
    for (const s of this.slabs) n += s.length;
    return n;
  }
}

/** Slab index of an address. */
export function slabOf(addr: number): number {
  return (addr / SLAB_SPAN) | 0;
}

/** Offset of an address inside its slab. */
export function offsetOf(addr: number): number {
  return addr % SLAB_SPAN;
}

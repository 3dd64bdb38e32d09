import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** Every HTTP/2 connection starts with this preface (RFC 9113 §3.4); no HTTP/1.x request line does. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export type Protocol = 'h2' | 'http1';

/**
 * Reads just enough of a new connection to tell HTTP/2 from HTTP/1.1 and hands back the bytes
 * read (`head`), which the chosen server must see first. The socket is left paused.
 */
export function sniffProtocol(socket: Socket, timeoutMs: number, done: (protocol: Protocol | undefined, head: Buffer) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const finish = (protocol: Protocol | undefined) => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onEnd);
    clearTimeout(timer);
    socket.pause();
    done(protocol, seen);
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    if (!seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) finish('http1');
    else if (n === H2_PREFACE.length) finish('h2');
  };
  const onEnd = () => finish(undefined);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('error', onEnd);
  // A deadline, not an idle timeout: a peer sending a byte now and then must not hold the socket.
  const timer = setTimeout(onEnd, timeoutMs);
}

/**
 * The socket as a plain JS stream that first yields `head`, then what `through` makes of each
 * chunk read (the chunk itself, without one). Node's HTTP/2 server reads a real socket through its
 * native handle, bypassing bytes put back with unshift(); a stream without a handle is read
 * through JS, so the sniffed bytes reach it.
 */
export function replaying(socket: Socket, head: Buffer, through?: (chunk: Buffer, out: Buffer[]) => void): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  stream.push(head);
  const out: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    if (through === undefined) {
      if (!stream.push(chunk)) socket.pause();
      return;
    }
    through(chunk, out);
    let more = true;
    for (const b of out) more = stream.push(b);
    out.length = 0;
    if (!more) socket.pause();
  });
  socket.once('end', () => stream.push(null));
  socket.once('close', () => stream.destroy());
  socket.on('error', (err) => stream.destroy(err));
  return stream;
}

/**
 * A remote-write request refused whole, with the HTTP status the specification asks for:
 * 400 malformed, 413 too large, 415 a content type or encoding not spoken (none retried), or
 * 429 when the in-flight budget has no room (retried by senders configured to, after Retry-After).
 */
export class RemoteWriteError extends Error {
  override name = 'RemoteWriteError';

  constructor(
    readonly status: 400 | 413 | 415 | 429,
    message: string,
  ) {
    super(message);
  }
}

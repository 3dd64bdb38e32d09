/**
 * A remote-write request refused whole, with the HTTP status the specification asks for:
 * 400 malformed, 413 too large, 415 a content type or encoding not spoken. None is retried.
 */
export class RemoteWriteError extends Error {
  override name = 'RemoteWriteError';

  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

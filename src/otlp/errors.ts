import { UserError } from '../common/errors.js';

/** The OTLP body could not be read: malformed protobuf or JSON, or a field of the wrong kind. */
export class DecodeError extends UserError {
  override name = 'DecodeError';
  constructor(message: string) {
    super('BAD_DATA', message);
  }
}

/** A metric or attribute name that no Prometheus name can be made from (empty, or only underscores). */
export class NamingError extends Error {
  override name = 'NamingError';
}

/**
 * A string field (attribute key or value, metric name) that is not valid UTF-8: protobuf strings
 * must be, and two values differing only in invalid bytes would otherwise decode to one label.
 */
export class InvalidUtf8Error extends Error {
  override name = 'InvalidUtf8Error';
}

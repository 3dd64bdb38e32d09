/** The OTLP body could not be read: malformed protobuf or JSON, or a field of the wrong kind. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** A metric or attribute name that no Prometheus name can be made from (empty, or only underscores). */
export class NamingError extends Error {
  override name = 'NamingError';
}

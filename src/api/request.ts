import type { FastifyRequest } from 'fastify';

function valuesIn(source: unknown, name: string): string[] {
  if (source === null || typeof source !== 'object') return [];
  const v = (source as Record<string, unknown>)[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v.map(formValue) : [formValue(v)];
}

/** A value as text: a string as it is, anything else a JSON body held as its JSON, so an error quotes what was sent. */
function formValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The form of a Prometheus API request: POST body values first, then the URL query, as Go's
 * Request.Form orders them. So GET and form-encoded POST take the same parameters.
 */
export class Form {
  constructor(private readonly req: FastifyRequest) {}

  /** Every value of a repeated parameter such as `match[]`. */
  all(name: string): string[] {
    return [...valuesIn(this.req.body, name), ...valuesIn(this.req.query, name)];
  }

  /** The first value, or undefined (Go's FormValue, which gives '' for both). */
  get(name: string): string | undefined {
    return this.all(name)[0];
  }
}

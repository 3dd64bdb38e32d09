import { UserError } from '../common/errors.js';

/** A trigger metadata value that is missing or wrong; the message names the key. */
export function badMetadata(key: string, why: string): UserError {
  return new UserError('BAD_DATA', `trigger metadata "${key}": ${why}`);
}

import pino, { type Logger } from 'pino';
import type { Config } from '../config.js';

/** JSON logs for machines; pino-pretty only when asked for, since it is a development dependency. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  if (config.logFormat === 'pretty') {
    return pino({ level: config.logLevel, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ level: config.logLevel });
}

import pino, { type Logger } from 'pino';

/**
 * NDJSON to stdout for journald; human-readable only when a person is watching a terminal.
 * Secrets are redacted by path wherever a config object might be logged.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secrets',
  '*.secrets',
  'mqtt.password',
  'config.mqtt.password',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(level: string, opts: { pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && !process.env.NO_PRETTY_LOGS);
  const base: pino.LoggerOptions = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino(base);
}

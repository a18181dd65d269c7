import { pino, type Logger } from 'pino';

export type { Logger };

/** One pino logger; pretty lines on a terminal, JSON lines otherwise. */
export function createLogger(level: string): Logger {
  const pretty = process.stdout.isTTY && level !== 'silent';
  return pino({
    level,
    base: { service: 'chittychat' },
    redact: { paths: ['req.headers.authorization', '*.token', '*.apiToken'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } } : {}),
  });
}

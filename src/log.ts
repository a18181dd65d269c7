import { pino, type Logger, type LoggerOptions } from 'pino';
import { redactSecrets, redactObject } from './redact.ts';

export type { Logger };

/**
 * One pino logger; pretty lines on a terminal, JSON lines otherwise. URL passwords and `token=`
 * query values are redacted from every message and logged field (src/redact.ts), errors included.
 */
export function createLogger(level: string, destination?: { write(line: string): void }): Logger {
  const pretty = !destination && process.stdout.isTTY && level !== 'silent';
  const options: LoggerOptions = {
    level,
    base: { service: 'chittychat' },
    redact: { paths: ['req.headers.authorization', '*.token', '*.apiToken', '*.secret', '*.password'], censor: '[redacted]' },
    formatters: { log: (obj) => redactObject(obj) as Record<string, unknown> },
    serializers: { err: (err: Error) => redactObject(pino.stdSerializers.err(err)) as ReturnType<typeof pino.stdSerializers.err> },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as Parameters<typeof method>);
      },
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

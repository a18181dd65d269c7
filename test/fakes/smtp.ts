/**
 * A real SMTP server on loopback (smtp-server) standing in for the provider behind SMTP_URL: it
 * parses every mail the gateway sends (mailparser) and keeps it, so tests read what a person got.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export class FakeSmtp {
  readonly mails: ParsedMail[] = [];
  private server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData: (stream, _s, cb) => {
      simpleParser(stream).then((m) => {
        this.mails.push(m);
        cb();
      }, cb);
    },
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  /** The mails sent to an address, in the order they arrived. */
  to(address: string): ParsedMail[] {
    return this.mails.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((t) => t?.value.some((v) => v.address === address)));
  }
}

/** A header as sent (mailparser folds List-* headers into an object, so read the raw line). */
export function rawHeader(m: ParsedMail, name: string): string {
  const line = m.headerLines.find((h) => h.key === name)?.line ?? '';
  return line
    .slice(line.indexOf(':') + 1)
    .replace(/\r?\n\s+/g, ' ')
    .trim();
}

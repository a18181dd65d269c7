/**
 * A fake whatsapp-web.js Client: an EventEmitter with `initialize`, `sendMessage`, `destroy` that
 * tests drive by emitting the library's events (`qr`, `ready`, `message`, `message_create`,
 * `disconnected`) with its Message shape (index.d.ts v1.34; see the corpus file).
 */
import { EventEmitter } from 'node:events';
import type { WebClient, WebClientFactory, WebMessage } from '../../bots/whatsapp/web.ts';

export class FakeWebClient extends EventEmitter {
  readonly sent: { chatId: string; content: string; id: string }[] = [];
  initialized = false;
  destroyed = false;
  private n = 0;

  async initialize(): Promise<void> {
    this.initialized = true;
  }

  async sendMessage(chatId: string, content: string): Promise<{ id: { _serialized: string } }> {
    const id = `true_${chatId}_FAKE${++this.n}`;
    this.sent.push({ chatId, content, id });
    // Like the library: our own message comes back as message_create with fromMe.
    this.emit('message_create', webMessage({ from: chatId, body: content, fromMe: true, id: `FAKE${this.n}` }));
    return { id: { _serialized: id } };
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.removeAllListeners();
  }
}

/** Every client a factory made, newest last. */
export function fakeClientFactory(): { factory: WebClientFactory; clients: FakeWebClient[] } {
  const clients: FakeWebClient[] = [];
  return {
    clients,
    factory: () => {
      const c = new FakeWebClient();
      clients.push(c);
      return c as unknown as WebClient;
    },
  };
}

/** A Message as whatsapp-web.js builds it (`_patch`): id._serialized = `${fromMe}_${remote}_${id}`. */
export function webMessage(o: { from: string; body: string; fromMe?: boolean; author?: string; id?: string; type?: string; to?: string }): WebMessage {
  const fromMe = o.fromMe ?? false;
  const id = o.id ?? `3EB0${Math.random().toString(16).slice(2, 18).toUpperCase()}`;
  return {
    id: { fromMe, remote: o.from, id, _serialized: `${fromMe}_${o.from}_${id}` },
    from: o.from,
    to: o.to ?? '15550009999@c.us',
    ...(o.author ? { author: o.author } : {}),
    body: o.body,
    type: o.type ?? 'chat',
    timestamp: Math.floor(Date.now() / 1000),
    fromMe,
    isStatus: o.from === 'status@broadcast',
    broadcast: false,
    hasMedia: false,
  };
}

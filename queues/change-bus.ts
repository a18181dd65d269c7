/**
 * Live changes between processes: every process publishes the SyncMessages it commits on one
 * Redis pub/sub channel, and every web process re-emits what it hears to its WebSocket clients.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Hub } from '../src/hub/hub.ts';
import type { Logger } from '../src/log.ts';
import type { SyncMessage } from '../src/sync/sync-message.ts';

export class RedisChangeBus extends EventEmitter<{ change: [SyncMessage] }> {
  private readonly onHubChange: (m: SyncMessage) => void;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly hub: Hub,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    this.onHubChange = (m) => {
      this.publisher.publish(this.channel, JSON.stringify(m)).catch((err: unknown) => {
        this.logger.debug({ err: (err as Error).message }, 'could not publish a live change (Redis down?); subscribers still get it through the outbox');
      });
    };
  }

  async start(): Promise<void> {
    this.hub.on('change', this.onHubChange);
    this.subscriber.on('message', (ch: string, raw: string) => {
      if (ch !== this.channel) return;
      try {
        this.emit('change', JSON.parse(raw) as SyncMessage);
      } catch {
        this.logger.warn('ignored a malformed live change');
      }
    });
    await this.subscriber.subscribe(this.channel);
  }

  async stop(): Promise<void> {
    this.hub.off('change', this.onHubChange);
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}

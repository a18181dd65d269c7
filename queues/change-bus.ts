/**
 * Live changes between processes: every process publishes the SyncMessages it commits on one
 * Redis pub/sub channel, and every web process re-emits what it hears to its WebSocket clients.
 */
import { EventEmitter } from 'node:events';
import type { RedisClient as Redis } from '../src/redis/client.ts';
import type { Hub } from '../src/hub/hub.ts';
import { ThrottledErrorLog } from '../src/error-log.ts';
import type { Logger } from '../src/log.ts';
import type { SyncMessage } from '../src/sync/sync-message.ts';

export class RedisChangeBus extends EventEmitter<{ change: [SyncMessage] }> {
  private readonly onHubChange: (m: SyncMessage) => void;
  private readonly publishErrors: ThrottledErrorLog;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly hub: Hub,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    this.publishErrors = new ThrottledErrorLog(
      logger,
      'Publishing a live change to Redis',
      "WebSocket clients of other web processes miss it (this process's clients got it; delivery subscribers get it through the outbox)",
    );
    this.onHubChange = (m) => {
      this.publisher.publish(this.channel, JSON.stringify(m)).then(
        () => this.publishErrors.recovered(),
        (err: unknown) => this.publishErrors.report(err, { syncMessage: m.id }),
      );
    };
  }

  async start(): Promise<void> {
    this.hub.on('change', this.onHubChange);
    this.subscriber.on('message', (ch: string, raw: string) => {
      if (ch !== this.channel) return;
      let m: SyncMessage;
      try {
        m = JSON.parse(raw) as SyncMessage;
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, excerpt: raw.slice(0, 200) }, 'ignored a malformed live change on the Redis bus (not JSON); the bus keeps listening');
        return;
      }
      try {
        this.emit('change', m);
      } catch (err) {
        this.logger.error({ err, syncMessage: m.id }, 'a live-change listener threw; listeners after it missed this change, the bus keeps listening');
      }
    });
    await this.subscriber.subscribe(this.channel);
  }

  async stop(): Promise<void> {
    this.hub.off('change', this.onHubChange);
    await this.subscriber.unsubscribe(this.channel).catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'could not unsubscribe from live changes while stopping; the connection is closed next anyway');
    });
  }
}

/**
 * The change stream WebSocket clients see: this process's own commits at once, plus every other
 * process's commits from the Redis bus — each message once (the bus echoes ours back too).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.ts';
import type { SyncMessage } from './sync-message.ts';

interface Source {
  on(event: 'change', listener: (m: SyncMessage) => void): unknown;
}

/** How many recent message ids are remembered to drop the bus's echo of local changes. */
const RECENT = 10_000;

export class LiveChanges extends EventEmitter<{ change: [SyncMessage] }> {
  private readonly seen = new Set<string>();

  constructor(
    local: Source,
    bus: Source,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    local.on('change', (m) => this.deliver(m));
    bus.on('change', (m) => this.deliver(m));
  }

  private deliver(m: SyncMessage): void {
    if (this.seen.has(m.id)) {
      this.seen.delete(m.id);
      return;
    }
    this.seen.add(m.id);
    if (this.seen.size > RECENT) this.seen.delete(this.seen.values().next().value as string);
    // Each listener on its own: one that throws neither starves the others nor breaks the source
    // (the hub announcing a commit, or the Redis bus).
    for (const listener of this.rawListeners('change') as Array<(m: SyncMessage) => void>) {
      try {
        listener(m);
      } catch (err) {
        this.logger.error({ err, syncMessage: m.id }, 'a live-change listener threw; the other listeners still got the change, this one may have missed it');
      }
    }
  }
}

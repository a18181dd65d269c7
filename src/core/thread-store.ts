/**
 * Where each entity's thread hangs on each destination that has threads (Slack `thread_ts`,
 * Discord message id), kept in the database so threads, edits and retractions survive restarts.
 */
import { and, eq } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../db.ts';

export class ThreadStore {
  constructor(private readonly db: Db) {}

  /** The platform id of the entity's first message on this destination, if one was posted. */
  async root(destinationKey: string, entityId: string): Promise<string | undefined> {
    const t = schema.channelThreads;
    const [row] = await this.db
      .select({ id: t.rootMessageId })
      .from(t)
      .where(and(eq(t.destinationKey, destinationKey), eq(t.entityId, entityId)));
    return row?.id;
  }

  /** Remember the first message; when two raced, the one stored first stays (and is returned). */
  async remember(channel: string, destinationKey: string, entityId: string, rootMessageId: string): Promise<string> {
    const t = schema.channelThreads;
    await this.db.insert(t).values({ channel, destinationKey, entityId, rootMessageId }).onConflictDoNothing();
    return (await this.root(destinationKey, entityId)) ?? rootMessageId;
  }
}

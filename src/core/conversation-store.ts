/**
 * What the gateway remembers per conversation: the items of the last list it showed (so
 * "done 2" means the second of them), the project in use, and the last long reply for "more".
 */
import { eq } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../db.ts';
import type { Reply } from './reply.ts';

export interface ConversationState {
  /** ChittyIDs in the order the last list showed them (ref 1 = index 0). */
  lastList: string[];
  /** Project chosen with `project use`. */
  projectId?: string;
  /** Session started here with `session start`. */
  sessionId?: string;
  /** The last reply and the page shown of it, for `more`. */
  lastReply?: Reply;
  page?: number;
}

export const emptyConversation = (): ConversationState => ({ lastList: [] });

export class ConversationStore {
  constructor(private readonly db: Db) {}

  async load(key: string): Promise<ConversationState> {
    const [row] = await this.db.select().from(schema.conversations).where(eq(schema.conversations.key, key));
    return row ? { ...emptyConversation(), ...(row.state as Partial<ConversationState>) } : emptyConversation();
  }

  async save(key: string, state: ConversationState): Promise<void> {
    const now = new Date();
    await this.db
      .insert(schema.conversations)
      .values({ key, state: state as unknown as Record<string, unknown>, updatedAt: now })
      .onConflictDoUpdate({ target: schema.conversations.key, set: { state: state as unknown as Record<string, unknown>, updatedAt: now } });
  }
}

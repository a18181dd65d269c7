/**
 * The 24-hour customer-service window, per number: when each person last wrote to us (kept in the
 * database, so every process and a restart know it). A free-form message may go only inside it.
 * {@link https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows}
 */
import { eq, sql } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../../src/db.ts';

/** How long after a person's last message free-form messages may be sent. */
export const SERVICE_WINDOW_MS = 24 * 3_600_000;
/** Margin kept before the window closes (a send takes a moment to reach WhatsApp). */
export const WINDOW_MARGIN_MS = 60_000;

export class WhatsAppContacts {
  constructor(private readonly db: Db) {}

  /** The person wrote at `at` (later times win; an old re-delivery never moves it back). */
  async heardFrom(number: string, at: Date): Promise<void> {
    const c = schema.whatsappContacts;
    await this.db
      .insert(c)
      .values({ number, lastInboundAt: at })
      .onConflictDoUpdate({ target: c.number, set: { lastInboundAt: sql`greatest(${c.lastInboundAt}, excluded.last_inbound_at)` } });
  }

  async lastInbound(number: string): Promise<Date | undefined> {
    const [row] = await this.db.select().from(schema.whatsappContacts).where(eq(schema.whatsappContacts.number, number));
    return row?.lastInboundAt;
  }

  /** True when a free-form message may go to the number now. */
  async windowOpen(number: string, now: Date = new Date()): Promise<boolean> {
    const last = await this.lastInbound(number);
    return last !== undefined && now.getTime() - last.getTime() < SERVICE_WINDOW_MS - WINDOW_MARGIN_MS;
  }
}

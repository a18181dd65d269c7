/**
 * Numbers that said STOP (or that Twilio refused with 21610): no fan-out goes to them until they
 * say START. Kept in `sms_opt_outs`; subscriptions are left as they are, so START resumes them.
 */
import { eq } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../../src/db.ts';

/** Why a number is opted out: it sent a keyword, or Twilio refused a send with 21610. */
export type OptOutSource = 'keyword' | 'twilio_21610';

export class SmsOptOuts {
  constructor(private readonly db: Db) {}

  async isOptedOut(phone: string): Promise<boolean> {
    const [row] = await this.db.select({ phone: schema.smsOptOuts.phone }).from(schema.smsOptOuts).where(eq(schema.smsOptOuts.phone, phone));
    return row !== undefined;
  }

  /** Opt the number out (again: the newest reason wins). */
  async optOut(phone: string, source: OptOutSource, detail?: string): Promise<void> {
    const t = schema.smsOptOuts;
    const now = new Date();
    await this.db
      .insert(t)
      .values({ phone, source, detail: detail ?? null, optedOutAt: now })
      .onConflictDoUpdate({ target: t.phone, set: { source, detail: detail ?? null, optedOutAt: now } });
  }

  /** The number said START; returns whether it was opted out. */
  async optIn(phone: string): Promise<boolean> {
    const rows = await this.db.delete(schema.smsOptOuts).where(eq(schema.smsOptOuts.phone, phone)).returning({ phone: schema.smsOptOuts.phone });
    return rows.length > 0;
  }
}

import type { DeliveryLedger, SentOutcome } from './delivery-ledger.ts';

/**
 * The outcome of the job's last batch on its way to the ledger: a write the job goes on without,
 * awaited (and its failure thrown) before the next one or the job's end; or one not yet made,
 * which the job's next read of the destination's rows makes in the same statement.
 */
export class PendingOutcome {
  private write: Promise<void> | undefined;
  private deferred: { outcome: SentOutcome; answered: string } | undefined;
  /** The "answered" marks (names.ts answeredKey) of batches whose outcome is written: no longer needed. */
  private readonly written: string[] = [];

  constructor(private readonly ledger: DeliveryLedger) {}

  set(write: Promise<void>, answered: string): void {
    const w = write.then(() => void this.written.push(answered));
    w.catch(() => undefined); // thrown at settle
    this.write = w;
  }

  /** Written by the next read ({@link take}), or at {@link settle} when none comes first. */
  defer(outcome: SentOutcome, answered: string): void {
    this.deferred = { outcome, answered };
  }

  /** The deferred outcome, for a read that writes it; that read then reports it {@link wrote}. */
  take(): { outcome: SentOutcome; answered: string } | undefined {
    const d = this.deferred;
    this.deferred = undefined;
    return d;
  }

  wrote(answered: string): void {
    this.written.push(answered);
  }

  /** The marks written so far, handed over once. */
  takeWritten(): string[] {
    return this.written.splice(0);
  }

  async settle(): Promise<void> {
    const w = this.write;
    this.write = undefined;
    await w;
    const d = this.take();
    if (d) {
      await this.ledger.markSent(d.outcome.batch, d.outcome.providerMessageId, d.outcome.note);
      this.wrote(d.answered);
    }
  }
}

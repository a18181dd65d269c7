/** What the hub's parts share: the database handle, the node's clock and its unit of work. */
import type { Db, Tx } from '../db.ts';
import type { HybridClock } from './hlc.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

export interface HubContext {
  /** Joins the caller's ambient transaction when there is one (see `inTransaction`). */
  readonly db: Db;
  readonly nodeId: string;
  readonly clock: HybridClock;
  /** Postgres NOTIFY channel that wakes outbox relays in other processes (none on PGlite). */
  readonly outboxChannel?: string | undefined;
  /**
   * Run `fn` in a transaction (a savepoint inside an ambient one); the SyncMessages announced
   * in it are emitted once the outermost transaction has committed.
   */
  transact<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Messages written to the outbox in `tx`, to emit once it commits; `notified`: the writer already sent the NOTIFY. */
  announce(tx: Tx, messages: SyncMessage[], notified?: boolean): void;
}

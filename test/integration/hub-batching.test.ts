/** `sync` reads hub state in a fixed number of queries, however many projects and todos there are. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../src/db.ts';
import { Hub } from '../../src/hub/hub.ts';
import { openTestDatabase } from '../support/database.ts';

const STATEMENTS = new Set(['select', 'insert', 'update', 'delete', 'execute']);

/** A handle that counts the statements made through it, inside its transactions too. */
function counting(db: Db, counter: { n: number }): Db {
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (STATEMENTS.has(String(prop))) counter.n++;
      if (prop === 'transaction') {
        return (fn: (tx: Db) => Promise<unknown>, ...rest: unknown[]) => (value as (...a: unknown[]) => Promise<unknown>).call(target, (tx: Db) => fn(counting(tx, counter)), ...rest);
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

describe('sync batching', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => database?.close());

  it('reconciles and broadcasts every project with as many queries for 12 projects as for 3', async () => {
    const counter = { n: 0 };
    const hub = new Hub({ ...database, db: counting(database.db, counter) }, 'hub');
    const measure = async (projects: number) => {
      for (let i = 0; i < projects; i++) {
        const p = await hub.create('projects', { name: `P${i}` });
        await hub.create('todos', { content: `Only in ${i}`, projectId: p.chittyId });
      }
      counter.n = 0;
      const r = await hub.sync({ domain: 'todos', dryRun: true });
      expect(r.reconciled.length).toBeGreaterThanOrEqual(projects);
      return counter.n;
    };
    const few = await measure(3);
    const many = await measure(9); // 12 projects now
    expect(many).toBe(few);
  });

  it('still merges duplicates in many projects in one sync', async () => {
    const hub = new Hub(database, 'hub');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await hub.create('projects', { name: `Dup ${i}` });
      const a = await hub.create('todos', { content: `Same ${i}`, projectId: p.chittyId, status: 'in_progress' });
      await hub.create('todos', { content: `same ${i}.`, projectId: p.chittyId, status: 'completed' });
      ids.push(a.chittyId);
    }
    const r = await hub.sync({ domain: 'todos' });
    expect(
      r.reconciled
        .flatMap((x) => x.groups)
        .map((g) => g.survivor)
        .sort(),
    ).toEqual(ids.sort());
    for (const id of ids) expect(await hub.get('todos', id)).toMatchObject({ status: 'completed', mergedFrom: [expect.any(String)] });
  });
});

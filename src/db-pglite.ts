/**
 * The embedded database: PGlite in DATA_DIR/pglite (or in memory for `memory://`), sized for one
 * gateway process, and started from the build's migrated template when the directory is new.
 *
 * A new data directory costs PGlite an initdb (a second wasm instance, 5–9 s and ~850 MB RSS on a
 * 2-core machine) plus every migration. `npm run build` does that once into
 * dist/pglite-template (see {@link ensurePgliteTemplate}); a fresh DATA_DIR is then a file copy of
 * it, made only when the template was built from exactly the migrations (and PGlite version) here.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import * as schema from '../drizzle/schema.ts';
import { ambientAware, MIGRATIONS, type Database, type Db } from './db.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where `npm run build` leaves the migrated template database. */
export const PGLITE_TEMPLATE = path.join(ROOT, 'dist', 'pglite-template');
/** Next to the template: what it was made from (see {@link pgliteStamp}). */
const STAMP_FILE = 'chitty-template.json';

/**
 * Postgres settings for the embedded server, on top of PGlite's own start parameters. Its
 * postgresql.conf asks for 128 MB of shared buffers, all of it inside the wasm heap and touched
 * soon enough; one gateway's hub fits in far less (the files stay in the OS page cache anyway).
 */
export const PGLITE_SETTINGS: Record<string, string> = {
  shared_buffers: '16MB',
  wal_buffers: '1MB',
  temp_buffers: '2MB',
  max_connections: '4', // single-user mode: one backend
};

/**
 * initdb options: 1 MB WAL segments instead of 16, so a new data directory (and the template a
 * fresh DATA_DIR is copied from) is 15 MB smaller.
 */
const INITDB_PARAMS = ['--wal-segsize=1'];

async function pgliteOptions(): Promise<PGliteOptions> {
  const { PGlite: P } = await import('@electric-sql/pglite');
  const defaults = (P as unknown as { defaultStartParams: string[] }).defaultStartParams;
  return {
    startParams: [...defaults, ...Object.entries(PGLITE_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    initDbStartParams: INITDB_PARAMS,
  };
}

/** sha256 of the migrations folder, the PGlite version and initdb options: the template fits only these. */
export function pgliteStamp(): string {
  const h = createHash('sha256');
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..', 'package.json');
  h.update(JSON.parse(fs.readFileSync(pkg, 'utf8')).version as string).update(`\0${INITDB_PARAMS.join(' ')}\0`);
  for (const f of fs.readdirSync(MIGRATIONS, { recursive: true }).map(String).sort()) {
    const p = path.join(MIGRATIONS, f);
    if (fs.statSync(p).isFile()) h.update(`${f}\0`).update(fs.readFileSync(p)).update('\0');
  }
  return h.digest('hex');
}

function templateStamp(): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PGLITE_TEMPLATE, STAMP_FILE), 'utf8')) as { stamp?: string }).stamp;
  } catch {
    return undefined;
  }
}

/** Per data directory: the database it is being given (see {@link preparePglite}). */
const preparing = new Map<string, Promise<void>>();

/**
 * Give a new DATA_DIR its database from the template when that fits: copied beside it and then
 * renamed into place, so a crash half-way leaves no half database (and of two gateways racing on
 * one new directory, one rename wins). Starts compiling PGlite's wasm meanwhile. Idempotent;
 * src/main.ts calls it before it loads the rest of the gateway, so the copy overlaps that.
 */
export function preparePglite(dataDir: string): Promise<void> {
  void pgliteWasm().catch(() => undefined); // reported by openClient, which awaits it again
  if (dataDir === 'memory://') return Promise.resolve();
  const dir = path.join(dataDir, 'pglite');
  let p = preparing.get(dir);
  if (!p) {
    p = seedFromTemplate(dir);
    preparing.set(dir, p);
  }
  return p;
}

async function seedFromTemplate(dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  const stamp = templateStamp();
  if (!stamp || stamp !== pgliteStamp()) return;
  const tmp = `${dir}.seeding-${process.pid}`;
  try {
    await fsp.rm(tmp, { recursive: true, force: true });
    await fsp.cp(PGLITE_TEMPLATE, tmp, { recursive: true, filter: (src) => path.basename(src) !== STAMP_FILE });
    await fsp.rename(tmp, dir); // replaces an empty directory; fails on one that has content
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

let wasmModule: Promise<WebAssembly.Module> | undefined;
/** The WebAssembly global (typed only as a namespace without the DOM lib). */
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }).WebAssembly;

/**
 * PGlite's compiled wasm (compiled once, in the background, from where the package lies), with
 * V8's baseline compiler only: optimizing the hot parts of an 8.7 MB module keeps ~50 MB more
 * resident for good, and one gateway's queries are small (3,000 inserts and 300 sorted selects took
 * less CPU this way: the optimizing compiler's own work outweighed what it saved).
 */
function pgliteWasm(): Promise<WebAssembly.Module> {
  if (!wasmModule) v8.setFlagsFromString('--liftoff-only'); // read when a module compiles; later wasm (undici's llhttp) too
  wasmModule ??= fsp.readFile(path.join(path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), 'pglite.wasm')).then((bytes) => wasmApi.compile(bytes));
  return wasmModule;
}

async function openClient(dir: string | undefined): Promise<PGlite> {
  const { PGlite: P } = await import('@electric-sql/pglite');
  return P.create({ ...(dir ? { dataDir: dir } : {}), ...(await pgliteOptions()), pgliteWasmModule: await pgliteWasm() });
}

async function migrated(client: PGlite) {
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  return db;
}

/** Open (creating and migrating as needed) the embedded database of DATA_DIR. */
export async function openPglite(dataDir: string): Promise<Database> {
  let dir: string | undefined;
  if (dataDir !== 'memory://') {
    dir = path.join(dataDir, 'pglite');
    await preparePglite(dataDir);
    fs.mkdirSync(dir, { recursive: true });
  }
  const client = await openClient(dir);
  const db = await migrated(client);
  const aware = ambientAware(db as unknown as Db);
  return {
    db: aware,
    root: db as unknown as Db,
    pipeline: aware, // one connection: the pipeline's statements run as every other (unnamed)
    kind: 'pglite',
    close: () => client.close(),
    ping: async () => void (await client.query('select 1')),
  };
}

/**
 * Make dist/pglite-template unless it already fits the migrations here (or `force`): initdb and migrate in a
 * temporary directory, then rename it into place. Resolves to true when it made one.
 */
export async function ensurePgliteTemplate(force = false): Promise<boolean> {
  const stamp = pgliteStamp();
  if (!force && templateStamp() === stamp) return false;
  const tmp = `${PGLITE_TEMPLATE}.${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const client = await openClient(tmp);
  try {
    await migrated(client);
  } finally {
    await client.close();
  }
  fs.writeFileSync(path.join(tmp, STAMP_FILE), JSON.stringify({ stamp }));
  const old = `${PGLITE_TEMPLATE}.old.${process.pid}`;
  if (fs.existsSync(PGLITE_TEMPLATE)) fs.renameSync(PGLITE_TEMPLATE, old);
  try {
    fs.renameSync(tmp, PGLITE_TEMPLATE);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(old, { recursive: true, force: true });
  }
  return true;
}

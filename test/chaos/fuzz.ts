/**
 * Fuzzed requests against a running gateway: every write route of its OpenAPI document gets
 * generated bodies, path ids and query strings (shaped by the route's schema, with NULs, lone
 * surrogates, deep nesting, wrong types and broken JSON mixed in). Counts 5xx answers and requests
 * that were refused (4xx, or any answer of POST /preview) but changed a table anyway.
 * Used by the property test (test/integration/fuzz.test.ts), `npm run fuzz` and `npm run chaos`.
 */
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../src/db.ts';

export interface FuzzResult {
  /** Requests sent. */
  count: number;
  /** Answers with a 5xx status. */
  fivexx: number;
  /** Refused requests (and previews) after which a table's row count had changed. */
  tableChanges: number;
  /** Answers by status. */
  statuses: Record<string, number>;
  /** The first few offending requests, to reproduce them. */
  failures: { method: string; path: string; body: string; status: number; why: string; answer: string }[];
}

export interface FuzzOptions {
  /** Row counts of the tables to watch (see {@link tableCounts}); without it tableChanges stays 0. */
  counts?: () => Promise<Record<string, number>>;
  /** fast-check seed, for a reproducible run. */
  seed?: number;
  /** Only routes whose `METHOD /path` matches. */
  only?: RegExp;
}

/** Row counts of every table in the current schema except the delivery ledger (written by workers). */
export async function tableCounts(db: Db): Promise<Record<string, number>> {
  const tables = rowsOf<{ name: string }>(
    await db.execute(sql`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`),
  )
    .map((r) => r.name)
    .filter((n) => n !== 'deliveries');
  if (tables.length === 0) return {};
  const select = tables.map((t) => `(select count(*) from "${t}")::int as "${t}"`).join(', ');
  return rowsOf<Record<string, number>>(await db.execute(sql.raw(`select ${select}`)))[0] ?? {};
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
}

interface WriteRoute {
  method: string;
  path: string;
  body: JsonSchema | undefined;
}

/** Strings Postgres, JSON or our parsers have choked on. */
const POISON = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\ud83d',
  '%00',
  '\\u0000',
  '',
  ' ',
  '\u202e',
  'ﬀ',
  '😀',
  '\r\n',
  '{{',
  "'; drop table todos; --",
  '../../etc/passwd',
  'x'.repeat(5000),
  '1e309',
  '-0',
  'null',
  '__proto__',
  'constructor',
];

const poisonString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...POISON) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\ud800', '\udc00')).map(([a, b]) => a + b) },
);

/**
 * A placeholder for JSON `depth` levels deep (`{"a":{"a":…}}` or `[[[…]]]`), put in by {@link toJson}
 * after JSON.stringify (which would run out of stack on the real thing).
 */
function nested(depth: number, array: boolean): string {
  return `__deep_${depth}_${array ? 'a' : 'o'}__`;
}

/** JSON text of a generated body, deep placeholders expanded. */
function toJson(value: unknown): string {
  return JSON.stringify(value).replace(/"__deep_(\d+)_([ao])__"/g, (_, d: string, kind: string) => {
    const n = Number(d);
    return kind === 'a' ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  });
}

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: poisonString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, true, false, null) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 30, max: 6000 }), fc.boolean()).map(([d, a]) => nested(d, a)) },
  { weight: 1, arbitrary: fc.dictionary(poisonString, poisonString, { maxKeys: 3 }) },
);

/** Values shaped like the schema most of the time, anything at all some of the time. */
function fromSchema(s: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 6) return anyValue;
  const shaped = shapedBy(s, depth);
  return fc.oneof({ weight: 5, arbitrary: shaped }, { weight: 1, arbitrary: anyValue });
}

function shapedBy(s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => fromSchema(a, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return poisonString;
    case 'integer':
    case 'number':
      return fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double(), fc.constantFrom(2 ** 31, 2 ** 53 + 1));
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(s.items, depth + 1), { maxLength: 4 });
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      const record = Object.fromEntries(props.map(([k, v]) => [k, fromSchema(v, depth + 1)]));
      const extra = typeof s.additionalProperties === 'object' ? fc.dictionary(poisonString, fromSchema(s.additionalProperties, depth + 1), { maxKeys: 3 }) : fc.constant({});
      return fc.tuple(fc.record(record, { requiredKeys: [] }), extra).map(([a, b]) => ({ ...b, ...a }));
    }
    default:
      return anyValue;
  }
}

/** A path id: one that exists, a plausible one, or poison (sometimes percent-encoded raw). */
function pathValue(ids: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: ids.length ? fc.constantFrom(...ids).map(encodeURIComponent) : fc.constant('CHITTY-TODO-X') },
    { weight: 3, arbitrary: poisonString.filter((x) => x.length > 0).map((x) => encodeURIComponent(x.replace(/[\ud800-\udfff]/g, 'x'))) },
    { weight: 2, arbitrary: fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%C0%80', '%FF', '..%2F..', 'todos', 'all') },
  );
}

const queryString = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('dryRun', 'token', 'x', 'at', 'limit'), fc.constantFrom('%00', 'a%00', '%ED%A0%80', 'true', '1', '%FF')).map(([k, v]) => `?${k}=${v}`) },
);

type Req = { route: WriteRoute; path: string; body: string | undefined };

function requestFor(route: WriteRoute, ids: string[]): fc.Arbitrary<Req> {
  const params = route.path.match(/\{[^}]+\}/g) ?? [];
  const body = route.body
    ? fc.oneof(
        { weight: 8, arbitrary: fromSchema(route.body).map(toJson) },
        { weight: 1, arbitrary: fc.constantFrom('{"a":', '', 'null', '[]', '"\\u0000"', '{"text":"\\ud800"}', '{"__proto__":{"x":1}}', `{"text":"a"${',"x":1'.repeat(3)}}`) },
      )
    : fc.option(fc.constantFrom('{}', '{"dryRun":true}', '{"a":"\\u0000"}'), { nil: undefined });
  return fc.tuple(fc.array(pathValue(ids), { minLength: params.length, maxLength: params.length }), queryString, body).map(([values, q, b]) => {
    let i = 0;
    const path = route.path.replace(/\{[^}]+\}/g, () => values[i++] ?? 'x') + q;
    return { route, path, body: b };
  });
}

async function writeRoutes(baseUrl: string, only: RegExp | undefined): Promise<WriteRoute[]> {
  const doc = (await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> };
  const routes: WriteRoute[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
      const r = { method: method.toUpperCase(), path, body: op.requestBody?.content['application/json']?.schema };
      if (!only || only.test(`${r.method} ${path}`)) routes.push(r);
    }
  }
  return routes;
}

/** Some entities to aim path ids at (so requests get past "not found"). */
async function seedIds(baseUrl: string, token: string): Promise<string[]> {
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${baseUrl}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return r.ok ? ((await r.json()) as { chittyId?: string }).chittyId : undefined;
  };
  const project = await post('/projects', { name: 'Fuzz' });
  const ids = [
    project,
    await post('/todos', { content: 'Fuzz todo', ...(project ? { projectId: project } : {}) }),
    await post('/sessions', { title: 'Fuzz session' }),
    await post('/contexts', { title: 'Fuzz context' }),
    await post('/topics', { name: 'Fuzz topic' }),
  ];
  return ids.filter((x): x is string => typeof x === 'string');
}

const same = (a: Record<string, number>, b: Record<string, number>) => JSON.stringify(a) === JSON.stringify(b);

/** Send `runs` fuzzed requests, one at a time, to every write route of the gateway at `baseUrl`. */
export async function fuzzRequests(baseUrl: string, token: string, runs: number, opts: FuzzOptions = {}): Promise<FuzzResult> {
  const routes = await writeRoutes(baseUrl, opts.only);
  const ids = await seedIds(baseUrl, token);
  const perRoute = Math.max(1, Math.ceil(runs / routes.length));
  const result: FuzzResult = { count: 0, fivexx: 0, tableChanges: 0, statuses: {}, failures: [] };
  let seed = opts.seed ?? Date.now();
  /** Row counts as of the last answer (measured once per request). */
  let before: Record<string, number> | undefined;
  for (const route of routes) {
    const samples = fc.sample(requestFor(route, ids), { numRuns: perRoute, seed: seed++ });
    for (const req of samples) {
      if (result.count >= runs) return result;
      if (opts.counts && !before) before = await opts.counts();
      let status = 0;
      let answer = '';
      try {
        const res = await fetch(baseUrl + req.path, {
          method: route.method,
          headers: { authorization: `Bearer ${token}`, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(req.body !== undefined ? { body: req.body } : {}),
        });
        status = res.status;
        answer = (await res.text()).slice(0, 300);
      } catch (err) {
        answer = (err as Error).message;
      }
      result.count++;
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      const fail = (why: string) => result.failures.length < 10 && result.failures.push({ method: route.method, path: req.path, body: (req.body ?? '').slice(0, 300), status, why, answer });
      if (status >= 500 || status === 0) {
        result.fivexx++;
        fail('5xx');
      }
      const mustNotWrite = status >= 400 || status === 0 || route.path.endsWith('/preview');
      if (before && opts.counts) {
        const after = await opts.counts();
        if (mustNotWrite && !same(before, after)) {
          const was = before;
          result.tableChanges++;
          fail(`tables changed: ${JSON.stringify(Object.fromEntries(Object.entries(after).filter(([k, v]) => was[k] !== v)))}`);
        }
        before = after;
      }
    }
  }
  return result;
}

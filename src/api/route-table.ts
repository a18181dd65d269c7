/**
 * One table of routes: each entry is registered with fastify (zod-validated params, query and
 * body) AND described in the OpenAPI document, so the two cannot drift.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HubError, InvalidChangeError } from '../hub/errors.ts';
import { formatIssues } from '../hub/hub.ts';
import { inSpan } from '../telemetry/tracing.ts';
import { findUnsafeInput } from './input-guard.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** fastify path, `:param` style; always under the API prefix unless `absolute`. */
  url: string;
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Response body schema, for the document. */
  response?: z.ZodType;
  /** Success status (default 200). */
  status?: number;
  /** No bearer token needed. */
  public?: boolean;
  /**
   * The route checks the bearer token itself (GET /metrics also takes METRICS_TOKEN): the
   * server's API-token hook lets it through, and a false answer here is a 401.
   */
  auth?: (req: FastifyRequest) => boolean;
  handler(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Keeps each route's generic types while collecting them in one array. */
export function route<P = undefined, Q = undefined, B = undefined>(def: RouteDef<P, Q, B>): RouteDef {
  return def as unknown as RouteDef;
}

function validate<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!r.success) throw new InvalidChangeError(`Invalid ${where}: ${formatIssues(r.error.issues)}`, r.error.issues);
  return r.data;
}

export function registerRoutes(app: FastifyInstance, prefix: string, routes: RouteDef[]): void {
  for (const def of routes) {
    app.route({
      method: def.method,
      url: prefix + def.url,
      config: { public: def.public === true || def.auth !== undefined },
      handler: async (req, reply) => {
        if (def.auth && !def.auth(req)) {
          reply.header('WWW-Authenticate', 'Bearer realm="chittychat"');
          throw new HubError('Send a token as "Authorization: Bearer <token>".', 'unauthorized', 401);
        }
        for (const [value, where] of [
          [req.params, 'path'],
          [req.query, 'query'],
          [req.body, 'body'],
        ] as const) {
          const unsafe = findUnsafeInput(value, where);
          if (unsafe) throw new InvalidChangeError(`Invalid ${where}: ${unsafe.field} ${unsafe.problem}.`, [{ path: unsafe.field, message: unsafe.problem }]);
        }
        const params = validate(def.params, req.params, 'path');
        const query = validate(def.query, req.query, 'query');
        const body = validate(def.body, req.body, 'body');
        // A write (a command, a change) runs in an inbound span: what it commits carries its trace.
        const run = () => def.handler({ params, query, body, req, reply });
        const result = def.method === 'GET' ? await run() : await inSpan(`${def.method} ${prefix}${def.url}`, { 'http.request.method': def.method, 'http.route': prefix + def.url }, run);
        if (reply.statusCode === 200) reply.status(def.status ?? 200); // a handler may have set its own (health: 503)
        return result;
      },
    });
  }
}

// ------------------------------------------------------------------- OpenAPI

const ERROR = {
  description: 'Error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
  }));
}

export function openApiDocument(routes: RouteDef[], prefix: string, info: { title: string; version: string; description: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const def of routes) {
    const path = (prefix + def.url).replace(/:([A-Za-z]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      summary: def.summary,
      tags: [def.tag],
      operationId: `${def.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...parameters(def.params, 'path'), ...parameters(def.query, 'query')],
      responses: {
        [String(def.status ?? 200)]: {
          description: 'OK',
          ...(def.response ? { content: { 'application/json': { schema: jsonSchema(def.response, 'output') } } } : {}),
        },
        '400': ERROR,
        ...(def.public ? {} : { '401': ERROR }),
        '404': ERROR,
        '413': ERROR,
      },
      ...(def.public ? { security: [] } : {}),
    };
    if (def.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(def.body, 'input') } } };
    paths[path] = { ...paths[path], [def.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'CHITTY_API_TOKEN' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
      },
    },
  };
}

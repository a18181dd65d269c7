/**
 * /api/v1/openapi.json is usable as a ChatGPT Action: a valid OpenAPI 3.1 document (checked by
 * @apidevtools/swagger-parser), an operationId on every operation (unique), a bearer security
 * scheme, and a `servers` URL from PUBLIC_URL.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

describe('GET /api/v1/openapi.json as a ChatGPT Action', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { PUBLIC_URL: 'https://chitty.example.com/' });
  });
  afterAll(async () => gw?.close());

  it('validates, names every operation once, declares bearer auth and the public server URL', async () => {
    const doc = (await gw.call('GET', '/api/v1/openapi.json', undefined, { token: null })).json;
    await SwaggerParser.validate(structuredClone(doc)); // throws with the first problem
    expect(doc.servers).toEqual([{ url: 'https://chitty.example.com' }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    const ids: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
        ids.push(op.operationId!);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('postApiV1Commands');
    expect(ids.length).toBeGreaterThan(20);
  });
});

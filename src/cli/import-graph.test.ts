/**
 * The CLI talks HTTP only: its import graph (what esbuild bundles for bin/chitty.mjs) holds
 * src/cli and the MCP server, never the gateway's server code (hub, db, queues, fastify…), and
 * the MCP SDK is loaded only by `chitty mcp` (a separate chunk).
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('src/cli import graph', () => {
  it('bundles only src/cli and src/mcp/{server,stdio}.ts, and external packages the CLI needs', async () => {
    const r = await build({
      entryPoints: { chitty: 'src/cli/chitty.ts' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      packages: 'external',
      write: false,
      outdir: 'out',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(r.metafile.inputs).sort();
    expect(inputs.filter((f) => !/^src\/cli\/[a-z-]+\.ts$/.test(f) && !/^src\/mcp\/(server|stdio)\.ts$/.test(f))).toEqual([]);
    const outputs = Object.entries(r.metafile.outputs);
    const external = (o: (typeof outputs)[number][1]) =>
      o.imports
        .filter((i) => i.external)
        .map((i) =>
          i.path
            .split('/')
            .slice(0, i.path.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    const all = new Set(outputs.flatMap(([, o]) => external(o)));
    expect([...all].filter((p) => !p.startsWith('node:')).sort()).toEqual(['@modelcontextprotocol/sdk', 'cli-table3', 'commander', 'ws', 'zod']);
    // The entry chunk (every call) does not import the MCP SDK or zod; `chitty mcp` loads them.
    const entry = outputs.find(([f]) => f.endsWith('chitty.js'))![1];
    expect(external(entry).filter((p) => p === '@modelcontextprotocol/sdk' || p === 'zod')).toEqual([]);
  });
});

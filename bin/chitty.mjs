#!/usr/bin/env node
// The `chitty` CLI. Starts from a JavaScript build of src/cli (esbuild, cached in
// node_modules/.cache/chitty-cli) so that a call which only talks HTTP loads neither tsx nor any
// server code. The build is redone when one of its source files is newer than it; when it cannot
// be built or written, the TypeScript source runs through tsx as before.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, 'node_modules', '.cache', 'chitty-cli');
const entry = path.join(cache, 'chitty.js');

function fresh() {
  try {
    const built = statSync(entry).mtimeMs;
    const inputs = JSON.parse(readFileSync(path.join(cache, 'inputs.json'), 'utf8'));
    return inputs.every((f) => statSync(path.join(root, f)).mtimeMs <= built);
  } catch {
    return false;
  }
}

async function build() {
  const { build: esbuild } = await import('esbuild');
  const tmp = `${cache}.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: { chitty: 'src/cli/chitty.ts' },
    bundle: true,
    splitting: true, // `chitty mcp` loads the MCP SDK only when it runs
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: tmp,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
  writeFileSync(path.join(tmp, 'inputs.json'), JSON.stringify(inputs));
  // Resolve bare imports from the package's own node_modules, wherever the cache lives.
  writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ type: 'module' }));
  try {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(path.dirname(cache), { recursive: true });
    renameSync(tmp, cache);
  } finally {
    // Another chitty built at the same moment and won the rename: its build is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
  }
}

let main;
try {
  if (!fresh()) await build();
  ({ main } = await import(pathToFileURL(entry).href));
} catch {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/chitty.ts'));
}
await main();

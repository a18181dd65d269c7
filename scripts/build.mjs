#!/usr/bin/env node
// The production build: `npm run build` (and `npm start`'s prestart, with --if-stale).
//
// 1. dist/gateway/: src/main.ts bundled by esbuild into ESM JavaScript (our own code only; every
//    node_modules package stays external and loads from node_modules, so PGlite's wasm and data
//    files, discord.js and the rest are found where they were installed). Channels are split into
//    chunks loaded only when configured. `import.meta.url` (and `.dirname`, `.filename`) in our
//    code still name the source file it was written in, so paths found relative to it (the
//    drizzle migrations, the web page's static files) resolve exactly as they do from source.
// 2. dist/pglite-template/: an embedded database after initdb and every migration, made once per
//    set of migrations (and PGlite version) by the built code; a fresh DATA_DIR starts from a copy
//    of it instead of running initdb (src/db-pglite.ts).
//
//   node scripts/build.mjs             the bundle, and the template when it does not fit
//   node scripts/build.mjs --if-stale  only what is older than its inputs (fast when nothing changed)
//   node scripts/build.mjs --force     both, even a template that still fits (to time a clean build)
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const outdir = path.join(dist, 'gateway');
const self = path.relative(root, fileURLToPath(import.meta.url));
const ifStale = process.argv.includes('--if-stale');
const force = process.argv.includes('--force');

/** The bundle is current when no file it was built from (nor this script) is newer than it. */
function bundleFresh() {
  try {
    const built = statSync(path.join(outdir, 'main.js')).mtimeMs;
    const inputs = JSON.parse(readFileSync(path.join(outdir, 'inputs.json'), 'utf8'));
    return [...inputs, self, 'package.json'].every((f) => statSync(path.join(root, f)).mtimeMs <= built);
  } catch {
    return false;
  }
}

/** The template is current when neither a migration nor the installed PGlite is newer than it. */
function templateFresh() {
  try {
    const made = statSync(path.join(dist, 'pglite-template', 'chitty-template.json')).mtimeMs;
    const migrations = path.join(root, 'drizzle', 'migrations');
    const deps = [migrations, path.join(migrations, 'meta'), ...readdirSync(migrations, { recursive: true }).map((f) => path.join(migrations, String(f)))];
    deps.push(path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'));
    return deps.every((f) => statSync(f).mtimeMs <= made);
  } catch {
    return false;
  }
}

/** `import.meta.url` of a bundled file, as an expression: its source file, relative to the chunk. */
const sourceUrl = (file) => `new URL(${JSON.stringify(path.relative(outdir, file).split(path.sep).join('/'))}, import.meta.url).href`;

/** esbuild plugin: our files keep their own `import.meta.url` / `.dirname` / `.filename` in the bundle. */
const keepSourceLocation = {
  name: 'keep-source-location',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.')) return { contents: text, loader: 'ts' };
      const url = sourceUrl(args.path);
      return {
        contents: text
          .replaceAll('import.meta.url', `(${url})`)
          .replaceAll('import.meta.dirname', `(${JSON.stringify(path.dirname(args.path))})`)
          .replaceAll('import.meta.filename', `(${JSON.stringify(args.path)})`),
        loader: 'ts',
      };
    });
  },
};

async function buildBundle() {
  const { build } = await import('esbuild');
  const tmp = `${outdir}.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'src/main.ts', 'pglite-template': 'src/db-pglite.ts' },
    bundle: true,
    splitting: true, // channels (bots/<channel>) are chunks of their own, loaded when configured
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: tmp,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [keepSourceLocation],
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
  writeFileSync(path.join(tmp, 'inputs.json'), JSON.stringify(inputs));
  writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(result.metafile));
  mkdirSync(dist, { recursive: true });
  const old = `${outdir}.old.${process.pid}`;
  if (existsSync(outdir)) renameSync(outdir, old);
  try {
    renameSync(tmp, outdir);
  } finally {
    // A concurrent build that won the rename is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}

const t0 = performance.now();
const did = [];
if (!ifStale || !bundleFresh()) {
  await buildBundle();
  did.push('dist/gateway');
}
// The template is made by the code just built (one way to open and migrate an embedded database),
// which also checks exactly what it was made from; skipped when nothing it depends on is newer.
if (force || did.length > 0 || !templateFresh()) {
  const { ensurePgliteTemplate } = await import(pathToFileURL(path.join(outdir, 'pglite-template.js')).href);
  if (await ensurePgliteTemplate(force)) did.push('dist/pglite-template');
}
if (did.length > 0 || !ifStale) process.stderr.write(`built ${did.join(' and ') || 'nothing (up to date)'} in ${Math.round(performance.now() - t0)} ms\n`);

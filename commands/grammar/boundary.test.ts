/**
 * commands/ imports what DESIGN.md allows: src/hub, types only from src/core, and nothing else
 * outside commands/ (no node: module, no I/O library). The grammar is stricter: it is pure, so
 * everything it takes from outside commands/grammar is a type (chrono-node aside). Every form that
 * loads a module is checked: `import … from`, `import '…'`, `export … from`, `import('…')`, `require(…)`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const grammarDir = dirname(fileURLToPath(import.meta.url));
const commandsDir = dirname(grammarDir);
const root = dirname(commandsDir);

/** Packages commands/ may load. */
const PACKAGES = ['chrono-node'];

/**
 * Values commands/ takes from src/core today although DESIGN.md allows only types: known debt,
 * listed so that no new one creeps in. Remove an entry when its import becomes type-only.
 */
const KNOWN_CORE_VALUES: Record<string, string[]> = {
  'commands/handlers/membership.ts': ['src/core/subscription-store.ts', 'src/core/identity-directory.ts'],
  'commands/handlers/resolve.ts': ['src/core/inbound.ts'],
};

interface ModuleRef {
  spec: string;
  typeOnly: boolean;
  form: string;
}

/** Every module a source text loads, with whether the statement brings in types only. */
function moduleRefs(text: string): ModuleRef[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const refs: ModuleRef[] = [];
  const allTypes = (clause: string) =>
    /^\s*type\s/.test(clause) ||
    (/^\s*\{[^}]*\}\s*$/.test(clause) &&
      clause.replace(/[{}\s]/g, '') !== '' &&
      clause
        .replace(/[{}]/g, '')
        .split(',')
        .filter((s) => s.trim() !== '')
        .every((s) => /^\s*type\s/.test(s)));
  for (const m of code.matchAll(/(?:^|[;\n])\s*(import|export)\s+([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/g)) {
    refs.push({ spec: m[3]!, typeOnly: allTypes(m[2]!), form: `${m[1]} … from` });
  }
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g)) refs.push({ spec: m[1]!, typeOnly: false, form: "import '…'" });
  for (const m of code.matchAll(/\b(import|require)\s*\(\s*([^)]*?)\s*\)/g)) {
    const literal = /^['"`]([^'"`$]+)['"`]$/.exec(m[2]!);
    refs.push({ spec: literal ? literal[1]! : `<computed: ${m[2]}>`, typeOnly: false, form: `${m[1]}()` });
  }
  return refs;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const inside = (dir: string, path: string) => path === dir || path.startsWith(dir + sep);

/** Why `ref` in `file` breaks the rules, or undefined when it is allowed. */
function violation(file: string, ref: ModuleRef): string | undefined {
  const name = relative(root, file).split(sep).join('/');
  if (!ref.spec.startsWith('.')) return PACKAGES.includes(ref.spec) ? undefined : `${name} loads ${ref.spec} (${ref.form})`;
  const target = resolve(dirname(file), ref.spec);
  const targetName = relative(root, target).split(sep).join('/');
  if (inside(grammarDir, file) && !inside(grammarDir, target)) {
    return ref.typeOnly ? undefined : `${name}: the grammar is pure, ${ref.spec} must be a type-only import (${ref.form})`;
  }
  if (inside(commandsDir, target) || inside(join(root, 'src', 'hub'), target)) return undefined;
  if (inside(join(root, 'src', 'core'), target)) {
    if (ref.typeOnly || KNOWN_CORE_VALUES[name]?.includes(targetName)) return undefined;
    return `${name}: only types may come from src/core, not ${ref.spec} (${ref.form})`;
  }
  return `${name} loads ${ref.spec} (${ref.form}); commands/ may import src/hub and src/core types only`;
}

describe('commands/ imports only what DESIGN.md allows', () => {
  it('sees every form of import', () => {
    const refs = moduleRefs(
      [
        "import type { A } from '../x.ts';",
        "import { type B, type C } from '../y.ts';",
        "import { D, type E } from '../z.ts';",
        "export { F } from 'node:fs';",
        "export * from './w.ts';",
        "export type { G } from '../v.ts';",
        "import 'side-effect';",
        "const m = await import('node:child_process');",
        'const n = await import(name);',
        "// import { H } from 'commented-out';",
      ].join('\n'),
    );
    expect(refs.map((r) => [r.spec, r.typeOnly, r.form])).toEqual([
      ['../x.ts', true, 'import … from'],
      ['../y.ts', true, 'import … from'],
      ['../z.ts', false, 'import … from'],
      ['node:fs', false, 'export … from'],
      ['./w.ts', false, 'export … from'],
      ['../v.ts', true, 'export … from'],
      ['side-effect', false, "import '…'"],
      ['node:child_process', false, 'import()'],
      ['<computed: name>', false, 'import()'],
    ]);
  });

  it('flags what breaks the rules', () => {
    const grammarFile = join(grammarDir, 'x.ts');
    const handlerFile = join(commandsDir, 'handlers', 'x.ts');
    const ref = (spec: string, typeOnly = false): ModuleRef => ({ spec, typeOnly, form: 'import … from' });
    expect(violation(handlerFile, ref('node:fs'))).toBeDefined();
    expect(violation(handlerFile, ref('../../src/core/reply.ts'))).toBeDefined();
    expect(violation(handlerFile, ref('../../src/core/reply.ts', true))).toBeUndefined();
    expect(violation(handlerFile, ref('../../src/hub/errors.ts'))).toBeUndefined();
    expect(violation(handlerFile, ref('../../queues/names.ts', true))).toBeDefined();
    expect(violation(handlerFile, ref('../grammar/index.ts'))).toBeUndefined();
    expect(violation(grammarFile, ref('../../src/hub/domains.ts'))).toBeDefined();
    expect(violation(grammarFile, ref('../../src/hub/domains.ts', true))).toBeUndefined();
    expect(violation(grammarFile, ref('chrono-node'))).toBeUndefined();
  });

  it('holds for every source file under commands/', () => {
    const files = sources(commandsDir);
    expect(files.length).toBeGreaterThan(10);
    const problems = files.flatMap((file) =>
      moduleRefs(readFileSync(file, 'utf8'))
        .map((ref) => violation(file, ref))
        .filter((v) => v !== undefined),
    );
    expect(problems).toEqual([]);
  });
});

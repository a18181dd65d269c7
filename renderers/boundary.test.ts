import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Renderers stay pure: no `node:` modules, no SDK clients, no I/O. Only relative imports, the
// neutral reply model, the error root and two pure libraries are allowed (STYLE.md §5).
// `src/core/chitty-error.ts` is allowed so `RenderValidationError` joins the one error hierarchy the
// queues classify; it is allowed only while it imports nothing itself (checked below).
const SHARED_MODULES = ['../src/core/reply.ts', '../src/core/chitty-error.ts'];
const ALLOWED_PACKAGES = new Set([...SHARED_MODULES, '@discordjs/builders', 'sms-segments-calculator']);
const folder = new URL('./', import.meta.url);

function sourceFiles(dir: URL, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return sourceFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [`${prefix}${entry.name}`] : [];
  });
}

function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"`]?([^'"`)]*)/g, /\brequire\s*\(\s*['"`]?([^'"`)]*)/g];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.push(m[1] ?? '');
  return found;
}

const files = sourceFiles(folder);

describe('renderers boundary', () => {
  it('finds the renderer sources', () => {
    expect(files).toEqual(expect.arrayContaining(['index.ts', 'slack.ts', 'discord.ts', 'sms.ts', 'whatsapp.ts', 'email.ts', 'text.ts', 'limits.ts', 'errors.ts']));
  });

  it.each(files)('%s imports only relative modules, the reply model and pure libraries', (file) => {
    const source = readFileSync(new URL(file, folder), 'utf8');
    const bad = specifiers(source).filter((s) => {
      if (s.startsWith('node:')) return true;
      if (ALLOWED_PACKAGES.has(s)) return false;
      return !(s.startsWith('./') && !s.slice(2).includes('..'));
    });
    expect(bad, `${file} imports ${bad.join(', ')}`).toEqual([]);
  });

  it.each(files)('%s does no I/O (no process, fetch, timers, dynamic import or require)', (file) => {
    const source = readFileSync(new URL(file, folder), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(source).not.toMatch(/\bprocess\.|\bfetch\s*\(|\bset(?:Timeout|Interval)\s*\(|\brequire\s*\(|\bimport\s*\(/);
  });

  it.each(SHARED_MODULES)('the shared module %s imports nothing and does no I/O', (file) => {
    const source = readFileSync(new URL(file, folder), 'utf8');
    expect(specifiers(source)).toEqual([]);
    expect(source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')).not.toMatch(/\bprocess\.|\bfetch\s*\(|\bset(?:Timeout|Interval)\s*\(/);
  });

  it('the checker itself rejects what it must', () => {
    expect(specifiers("import { readFileSync } from 'node:fs';\nimport x from 'discord.js';\nconst y = await import('twilio');")).toEqual(['node:fs', 'discord.js', 'twilio']);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('commands/grammar stays pure', () => {
  it('imports no node: module, no I/O library and only types from src/', () => {
    const sources = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(0);
    for (const file of sources) {
      const text = readFileSync(join(here, file), 'utf8');
      for (const m of text.matchAll(/^\s*import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
        const [, typeOnly, spec = ''] = m;
        if (spec.startsWith('./')) continue;
        if (spec.startsWith('../')) {
          expect(typeOnly, `${file}: ${spec} must be a type-only import`).toBeDefined();
          continue;
        }
        expect(['chrono-node'], `${file} imports ${spec}`).toContain(spec);
      }
    }
  });
});

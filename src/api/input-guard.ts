/**
 * What Postgres refuses although JSON allows it, refused at the edge with the field's name (400)
 * instead of failing half-way in the database (500): NUL characters (`\u0000`, `%00`), lone UTF-16
 * surrogates (`\ud800`, not valid UTF-8) and JSON nested deeper than any of our shapes needs.
 */

/** Deepest nesting accepted in a request (objects and arrays); our deepest shape needs about 8. */
export const MAX_JSON_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a value cannot be stored, or undefined when it can. */
export function unsafeText(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode';
  return undefined;
}

/** The first field of `value` that cannot be stored, named as a path (`body.messages[2].payload`), and why. */
export function findUnsafeInput(value: unknown, where: string, depth = 0): { field: string; problem: string } | undefined {
  if (typeof value === 'string') {
    const problem = unsafeText(value);
    return problem ? { field: where, problem } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_JSON_DEPTH) return { field: where, problem: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = findUnsafeInput(value[i], `${where}[${i}]`, depth + 1);
      if (r) return r;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const name = /^[A-Za-z_$][\w$]*$/.test(k) ? `${where}.${k}` : `${where}[${JSON.stringify(k)}]`;
    const keyProblem = unsafeText(k);
    if (keyProblem) return { field: name, problem: `has a key that ${keyProblem}` };
    const r = findUnsafeInput(v, name, depth + 1);
    if (r) return r;
  }
  return undefined;
}

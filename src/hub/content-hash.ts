import { createHash } from 'node:crypto';

/**
 * Normalized content hash used to find the same todo written in several sessions: Unicode NFKC,
 * case-folded, punctuation dropped, whitespace collapsed. "Write tests." = "write  TESTS".
 */
export function contentHash(text: string): string {
  const normalized = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return createHash('sha256').update(normalized).digest('hex').slice(0, 32);
}

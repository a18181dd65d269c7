/** Where the shared corpus lives (../shared/corpus beside the repository); tests skip without it. */
import { existsSync, readFileSync } from 'node:fs';

export const smsCorpus = (file: string): URL => new URL(`../../../shared/corpus/sms/${file}`, import.meta.url);
export const hasCorpus = (file: string): boolean => existsSync(smsCorpus(file));
export const readCorpus = <T>(file: string): T => JSON.parse(readFileSync(smsCorpus(file), 'utf8')) as T;

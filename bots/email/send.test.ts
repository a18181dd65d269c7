import { describe, expect, it } from 'vitest';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import { stableSubject } from './send.ts';

const change = (data: Record<string, unknown>, domain = 'todos') => ({ payload: { domain, entity: { chittyId: 'CHITTY-TODO-01J0000000000000000000000A', data } } }) as unknown as SyncMessage;

describe('stableSubject', () => {
  it('tags with the project name: from the change, else the one looked up', () => {
    expect(stableSubject([change({ content: 'Write brief', projectName: 'Alpha' })])).toBe('[Alpha] Write brief');
    expect(stableSubject([change({ content: 'Write brief', projectId: 'CHITTY-PROJ-01J0000000000000000000000B' })], 'Alpha')).toBe('[Alpha] Write brief');
  });

  it('never shows a project id: without a name the tag is the entity type', () => {
    expect(stableSubject([change({ content: 'Write brief', projectId: 'CHITTY-PROJ-01J0000000000000000000000B' })])).toBe('[Todo] Write brief');
    expect(stableSubject([change({ content: 'Write brief', project: 'CHITTY-PROJ-01J0000000000000000000000B' })])).toBe('[Todo] Write brief');
  });

  it('keeps the subject one line and the tag without brackets', () => {
    expect(stableSubject([change({ content: 'Write\r\nbrief' })], 'Al]pha\nX')).toBe('[Al pha X] Write brief');
  });
});

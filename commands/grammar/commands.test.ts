import { describe, expect, it } from 'vitest';
import { parseCommand, type Command } from './commands.ts';
import { GENERAL_USAGE, USAGE } from './usage.ts';

/** Wednesday 4 June 2025, 10:00 UTC. */
const NOW = new Date('2025-06-04T10:00:00.000Z');
const UTC = { timezone: 0 };
const ID = 'CHITTY-TODO-01ARZ3NDEKTSV4RRFFQ69G5FAV';
const FRI_NOON = '2025-06-06T12:00:00.000Z';

const parse = (text: string) => parseCommand(text, NOW, UTC);

function command(text: string): Command {
  const r = parse(text);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${r.error}`);
  return r.command;
}

describe('parseCommand: todo', () => {
  it.each<[string, Command]>([
    ['todo add Buy milk', { name: 'todo.add', text: 'Buy milk' }],
    ['/todo add Buy milk', { name: 'todo.add', text: 'Buy milk' }],
    ['/ todo add Buy milk', { name: 'todo.add', text: 'Buy milk' }],
    ['TODO ADD Buy Milk', { name: 'todo.add', text: 'Buy Milk' }],
    ['add Buy milk', { name: 'todo.add', text: 'Buy milk' }],
    ['todo add "Buy milk" for mom', { name: 'todo.add', text: 'Buy milk for mom' }],
    ['todo add \u201CBuy oat milk\u201D', { name: 'todo.add', text: 'Buy oat milk' }],
    ["todo add 'Mom's gift'", { name: 'todo.add', text: "Mom's gift" }],
    ['todo add \u2018Mom\u2019s gift\u2019', { name: 'todo.add', text: 'Mom\u2019s gift' }],
    ["todo add Don't forget", { name: 'todo.add', text: "Don't forget" }],
    ['todo add "--mine is text"', { name: 'todo.add', text: '--mine is text' }],
    ['todo add Call Bob -- urgent', { name: 'todo.add', text: 'Call Bob -- urgent' }],
    ['todo add Ship it --project Gateway --priority high --assign @alice', { name: 'todo.add', text: 'Ship it', project: 'Gateway', priority: 'high', assign: '@alice' }],
    ['todo add Ship it --project="Chitty Chat"', { name: 'todo.add', text: 'Ship it', project: 'Chitty Chat' }],
    ['todo add Ship it \u2014project Gateway \u2014priority LOW', { name: 'todo.add', text: 'Ship it', project: 'Gateway', priority: 'low' }],
    ['todo add Ship it \u2013priority=critical', { name: 'todo.add', text: 'Ship it', priority: 'critical' }],
    ['todo add Ship it --PRIORITY Medium', { name: 'todo.add', text: 'Ship it', priority: 'medium' }],
    ['todo add --priority high Ship it', { name: 'todo.add', text: 'Ship it', priority: 'high' }],
    ['todo add Ship --project P it', { name: 'todo.add', text: 'Ship it', project: 'P' }],
    ['todo add Report --due fri', { name: 'todo.add', text: 'Report', due: FRI_NOON }],
    ['todo add Report --due Fri', { name: 'todo.add', text: 'Report', due: FRI_NOON }],
    ['todo add Report --due=fri', { name: 'todo.add', text: 'Report', due: FRI_NOON }],
    ['todo add Report \u2014due fri', { name: 'todo.add', text: 'Report', due: FRI_NOON }],
    ['todo add Report --due tomorrow 5pm', { name: 'todo.add', text: 'Report', due: '2025-06-05T17:00:00.000Z' }],
    ['todo add Report --due "tomorrow 5pm"', { name: 'todo.add', text: 'Report', due: '2025-06-05T17:00:00.000Z' }],
    ['todo add Report --due=tomorrow 5pm', { name: 'todo.add', text: 'Report', due: '2025-06-05T17:00:00.000Z' }],
    ['todo add Report --due fri 5pm --priority high', { name: 'todo.add', text: 'Report', due: '2025-06-06T17:00:00.000Z', priority: 'high' }],
    ['todo add --due fri Write report', { name: 'todo.add', text: 'Write report', due: FRI_NOON }],
    ['todo add Report --due 2025-07-01', { name: 'todo.add', text: 'Report', due: '2025-07-01T12:00:00.000Z' }],
    ['todo add Report --due monday', { name: 'todo.add', text: 'Report', due: '2025-06-09T12:00:00.000Z' }],
    ['todo add Report --due in 2 hours', { name: 'todo.add', text: 'Report', due: '2025-06-04T12:00:00.000Z' }],

    ['todo list', { name: 'todo.list', mine: false }],
    ['list', { name: 'todo.list', mine: false }],
    ['LIST', { name: 'todo.list', mine: false }],
    ['todos', { name: 'todo.list', mine: false }],
    ['todo ls --mine', { name: 'todo.list', mine: true }],
    ['todo list --mine=no', { name: 'todo.list', mine: false }],
    ['todo list --project Gateway --status pending', { name: 'todo.list', project: 'Gateway', status: 'pending', mine: false }],
    ['list --status done', { name: 'todo.list', status: 'completed', mine: false }],
    ['list --status open', { name: 'todo.list', status: 'pending', mine: false }],
    ['list --status todo', { name: 'todo.list', status: 'pending', mine: false }],
    ['list --status in-progress', { name: 'todo.list', status: 'in_progress', mine: false }],
    ['list --status in_progress', { name: 'todo.list', status: 'in_progress', mine: false }],
    ['list --status doing', { name: 'todo.list', status: 'in_progress', mine: false }],
    ['list --status BLOCKED \u2014mine', { name: 'todo.list', status: 'blocked', mine: true }],
    ['list --status completed', { name: 'todo.list', status: 'completed', mine: false }],

    ['todo done 2', { name: 'todo.done', ref: { kind: 'index', index: 2 } }],
    ['todo done #2', { name: 'todo.done', ref: { kind: 'index', index: 2 } }],
    [`todo done ${ID}`, { name: 'todo.done', ref: { kind: 'id', id: ID } }],
    [`todo done ${ID.toLowerCase()}`, { name: 'todo.done', ref: { kind: 'id', id: ID } }],
    ['done 2', { name: 'todo.done', ref: { kind: 'index', index: 2 } }],
    ['Done #12', { name: 'todo.done', ref: { kind: 'index', index: 12 } }],
    ['/done 2', { name: 'todo.done', ref: { kind: 'index', index: 2 } }],
    ['todo complete 2', { name: 'todo.done', ref: { kind: 'index', index: 2 } }],
    ['todo start 3', { name: 'todo.start', ref: { kind: 'index', index: 3 } }],
    ['start 3', { name: 'todo.start', ref: { kind: 'index', index: 3 } }],
    ['todo block 2', { name: 'todo.block', ref: { kind: 'index', index: 2 } }],
    ['block #2', { name: 'todo.block', ref: { kind: 'index', index: 2 } }],
    ['todo reopen 2', { name: 'todo.reopen', ref: { kind: 'index', index: 2 } }],
    ['reopen 2', { name: 'todo.reopen', ref: { kind: 'index', index: 2 } }],
    ['todo delete 4', { name: 'todo.delete', ref: { kind: 'index', index: 4 } }],
    ['todo rm #4', { name: 'todo.delete', ref: { kind: 'index', index: 4 } }],
    ['todo edit 2 Buy oat milk', { name: 'todo.edit', ref: { kind: 'index', index: 2 }, text: 'Buy oat milk' }],
    [`todo edit ${ID} "Buy oat milk"`, { name: 'todo.edit', ref: { kind: 'id', id: ID }, text: 'Buy oat milk' }],
    ['todo assign #2 @bob', { name: 'todo.assign', ref: { kind: 'index', index: 2 }, assignee: '@bob' }],
    ['todo assign 2 Bob Smith', { name: 'todo.assign', ref: { kind: 'index', index: 2 }, assignee: 'Bob Smith' }],
    ['todo comment 2 Looks good', { name: 'todo.comment', ref: { kind: 'index', index: 2 }, text: 'Looks good' }],
    [`todo comment ${ID} "Looks good"`, { name: 'todo.comment', ref: { kind: 'id', id: ID }, text: 'Looks good' }],
    ['comment #3 Ship it, after review', { name: 'todo.comment', ref: { kind: 'index', index: 3 }, text: 'Ship it, after review' }],
    ["/comment 3 Don't forget the tests", { name: 'todo.comment', ref: { kind: 'index', index: 3 }, text: "Don't forget the tests" }],
    ['todo reconcile', { name: 'todo.reconcile' }],
    ['todo reconcile --project Gateway', { name: 'todo.reconcile', project: 'Gateway' }],
  ])('%j', (text, expected) => {
    expect(command(text)).toEqual(expected);
  });
});

describe('parseCommand: sync, project, topic, session', () => {
  it.each<[string, Command]>([
    ['sync todos', { name: 'sync', domain: 'todos', dryRun: false }],
    ['/sync all', { name: 'sync', domain: 'all', dryRun: false }],
    ['SYNC Topic', { name: 'sync', domain: 'topics', dryRun: false }],
    ['sync project', { name: 'sync', domain: 'projects', dryRun: false }],
    ['sync session', { name: 'sync', domain: 'sessions', dryRun: false }],
    ['sync context', { name: 'sync', domain: 'contexts', dryRun: false }],
    ['sync repo', { name: 'sync', domain: 'repos', dryRun: false }],
    ['sync service', { name: 'sync', domain: 'services', dryRun: false }],
    ['sync todo --dry-run', { name: 'sync', domain: 'todos', dryRun: true }],
    ['sync todos \u2014dry-run', { name: 'sync', domain: 'todos', dryRun: true }],
    ['sync todos --dry_run', { name: 'sync', domain: 'todos', dryRun: true }],
    ['sync todos --project Gateway --session=S1 --dry-run', { name: 'sync', domain: 'todos', project: 'Gateway', session: 'S1', dryRun: true }],
    ['sync --dry-run todos', { name: 'sync', domain: 'todos', dryRun: true }],
    ['sync status', { name: 'sync.status' }],
    ['sync conflicts', { name: 'sync.conflicts' }],
    ['sync resolve 1 2', { name: 'sync.resolve', conflict: { kind: 'index', index: 1 }, choice: { kind: 'index', index: 2 } }],
    ['sync resolve #1 Ship on Friday', { name: 'sync.resolve', conflict: { kind: 'index', index: 1 }, choice: { kind: 'value', value: 'Ship on Friday' } }],
    ['sync resolve 1 "2"', { name: 'sync.resolve', conflict: { kind: 'index', index: 1 }, choice: { kind: 'value', value: '2' } }],
    ['sync resolve chitty-conflict-01ARZ3NDEK 1', { name: 'sync.resolve', conflict: { kind: 'id', id: 'CHITTY-CONFLICT-01ARZ3NDEK' }, choice: { kind: 'index', index: 1 } }],

    ['project create Gateway', { name: 'project.create', projectName: 'Gateway' }],
    ['project create Chitty Chat --description The gateway project', { name: 'project.create', projectName: 'Chitty Chat', description: 'The gateway project' }],
    ['project create "Chitty Chat" --description="The gateway"', { name: 'project.create', projectName: 'Chitty Chat', description: 'The gateway' }],
    ['project list', { name: 'project.list' }],
    ['projects', { name: 'project.list' }],
    ['project show Gateway', { name: 'project.show', project: 'Gateway' }],
    ['project show CHITTY-PROJ-01ABC', { name: 'project.show', project: 'CHITTY-PROJ-01ABC' }],
    ['Project Use Chitty Chat', { name: 'project.use', project: 'Chitty Chat' }],
    ['topic create Releases', { name: 'topic.create', topicName: 'Releases' }],
    ['topic create Releases --description Shipping notes', { name: 'topic.create', topicName: 'Releases', description: 'Shipping notes' }],
    ['topic list', { name: 'topic.list' }],
    ['topics', { name: 'topic.list' }],
    ['topic show Releases', { name: 'topic.show', topic: 'Releases' }],
    ['topic archive Releases', { name: 'topic.archive', topic: 'Releases' }],
    ['session start', { name: 'session.start' }],
    ['session start Planning', { name: 'session.start', sessionName: 'Planning' }],
    ['session start Sprint planning --project Gateway', { name: 'session.start', sessionName: 'Sprint planning', project: 'Gateway' }],
    ['session end', { name: 'session.end' }],
    ['session end S1', { name: 'session.end', session: 'S1' }],
    ['session list', { name: 'session.list' }],
    ['sessions', { name: 'session.list' }],
    ['session list --project Gateway', { name: 'session.list', project: 'Gateway' }],
    ['session show S1', { name: 'session.show', session: 'S1' }],
  ])('%j', (text, expected) => {
    expect(command(text)).toEqual(expected);
  });
});

describe('parseCommand: subscriptions, linking, help, more, stop', () => {
  it.each<[string, Command]>([
    ['subscribe', { name: 'subscribe', target: { kind: 'hub' } }],
    ['/subscribe hub', { name: 'subscribe', target: { kind: 'hub' } }],
    ['subscribe project Gateway', { name: 'subscribe', target: { kind: 'project', project: 'Gateway' } }],
    ['subscribe project Chitty Chat', { name: 'subscribe', target: { kind: 'project', project: 'Chitty Chat' } }],
    ['SUBSCRIBE Topic Releases', { name: 'subscribe', target: { kind: 'topic', topic: 'Releases' } }],
    ['subscribe --domains todos,sessions', { name: 'subscribe', target: { kind: 'hub' }, domains: ['todos', 'sessions'] }],
    ['subscribe project P --domains todo, session', { name: 'subscribe', target: { kind: 'project', project: 'P' }, domains: ['todos', 'sessions'] }],
    ['subscribe --domains=todos,todo,Topics', { name: 'subscribe', target: { kind: 'hub' }, domains: ['todos', 'topics'] }],
    ['unsubscribe', { name: 'unsubscribe', target: { kind: 'hub' } }],
    ['unsubscribe project Gateway', { name: 'unsubscribe', target: { kind: 'project', project: 'Gateway' } }],
    ['unsubscribe topic Releases', { name: 'unsubscribe', target: { kind: 'topic', topic: 'Releases' } }],
    ['unsubscribe all', { name: 'unsubscribe', target: { kind: 'all' } }],
    ['stop', { name: 'unsubscribe', target: { kind: 'all' } }],
    ['STOP', { name: 'unsubscribe', target: { kind: 'all' } }],
    ['Stop please', { name: 'unsubscribe', target: { kind: 'all' } }],
    ['subscriptions', { name: 'subscriptions' }],
    ['link', { name: 'link.start' }],
    ['link ABC123', { name: 'link.code', code: 'ABC123' }],
    ['link approve ABC123', { name: 'link.approve', code: 'ABC123' }],
    ['LINK APPROVE abc123', { name: 'link.approve', code: 'abc123' }],
    ['help', { name: 'help' }],
    ['HELP', { name: 'help' }],
    ['/help', { name: 'help' }],
    ['?', { name: 'help' }],
    ['help todo', { name: 'help', topic: 'todo' }],
    ['help /Todo  Add', { name: 'help', topic: 'todo add' }],
    ['more', { name: 'more' }],
    ['MORE', { name: 'more' }],
  ])('%j', (text, expected) => {
    expect(command(text)).toEqual(expected);
  });
});

describe('parseCommand: refs', () => {
  it.each<[string, boolean]>([
    ['2', true],
    ['#2', true],
    [ID, true],
    [ID.toLowerCase(), true],
    ['0', false],
    ['#0', false],
    ['-1', false],
    ['2.5', false],
    ['two', false],
    ['#', false],
    ['99999999999999999999', false],
    ['CHITTY-TODO-', false],
    ['CHITTY-TODO-01ARZ_3ND', false],
  ])('done %j → ok=%s', (ref, ok) => {
    const r = parse(`done ${ref}`);
    expect(r.ok).toBe(ok);
    if (!r.ok) {
      expect(r.error).toContain('number');
      expect(r.usage).toBe(USAGE['todo.done']);
    }
  });
});

describe('parseCommand: usage errors', () => {
  it.each<[string, RegExp, string]>([
    ['', /Type a command/, GENERAL_USAGE],
    ['   ', /Type a command/, GENERAL_USAGE],
    ['/', /Type a command/, GENERAL_USAGE],
    ['frobnicate 2', /^Unknown command "frobnicate"\.$/, GENERAL_USAGE],
    ['tood list', /^Unknown command "tood"\. Did you mean todo\?$/, GENERAL_USAGE],
    ['--mine', /Start with a command, not --mine/, GENERAL_USAGE],
    ['todo', /Say what to do with todo: add, list, done/, 'todo add|list|done|start|block|reopen|edit|assign|comment|delete|reconcile …  (help todo for details)'],
    ['todo frob', /^Unknown todo command "frob"\.$/, 'todo add|list|done|start|block|reopen|edit|assign|comment|delete|reconcile …  (help todo for details)'],
    ['todo lsit', /Unknown todo command "lsit"\. Did you mean list\?/, 'todo add|list|done|start|block|reopen|edit|assign|comment|delete|reconcile …  (help todo for details)'],
    ['project', /Say what to do with project/, 'project create|list|show|use …  (help project for details)'],
    ['todo add Buy milk --prio high', /^Unknown flag --prio for todo add\.$/, USAGE['todo.add']],
    ['add Buy milk \u2014prio high', /^Unknown flag --prio for todo add\.$/, USAGE['todo.add']],
    ['todo add', /^Missing todo text for todo add\.$/, USAGE['todo.add']],
    ['add ""', /^Missing todo text for todo add\.$/, USAGE['todo.add']],
    ['todo add --priority high', /^Missing todo text/, USAGE['todo.add']],
    ['todo add Buy milk --priority', /^Missing value for --priority in todo add\.$/, USAGE['todo.add']],
    ['todo add Buy milk --priority --mine', /^Missing value for --priority in todo add\.$/, USAGE['todo.add']],
    ['todo add Buy milk --project=', /^Missing value for --project in todo add\.$/, USAGE['todo.add']],
    ['todo add Buy milk --priority urgent', /^Priority must be one of low, medium, high, critical \(not "urgent"\)\.$/, USAGE['todo.add']],
    ['todo add Buy milk --due someday', /^Could not read "someday" as a date for --due\.$/, USAGE['todo.add']],
    ['todo add Buy milk --due="whenever"', /as a date for --due/, USAGE['todo.add']],
    ['todo add Buy milk --due', /^Missing value for --due in todo add\.$/, USAGE['todo.add']],
    ['todo add Buy --project A --project B', /--project is given twice/, USAGE['todo.add']],
    ['todo list --status maybe', /^Status must be one of/, USAGE['todo.list']],
    ['todo list --status constructor', /^Status must be one of/, USAGE['todo.list']],
    ['todo list --mine=perhaps', /--mine takes no value/, USAGE['todo.list']],
    ['todo list extra', /^Unexpected "extra" after todo list\.$/, USAGE['todo.list']],
    ['todo list --due fri', /^Unknown flag --due for todo list\.$/, USAGE['todo.list']],
    ['done', /^Missing todo number or id for todo done\.$/, USAGE['todo.done']],
    ['start', /^Missing todo number or id for todo start\.$/, USAGE['todo.start']],
    ['done 2 3', /^Unexpected "3" after todo done 2\.$/, USAGE['todo.done']],
    ['done milk', /^"milk" is not a todo number/, USAGE['todo.done']],
    ['todo edit 2', /^Missing new text for todo edit\.$/, USAGE['todo.edit']],
    ['todo edit', /^Missing todo number or id for todo edit\.$/, USAGE['todo.edit']],
    ['todo assign 2', /^Missing who to assign for todo assign\.$/, USAGE['todo.assign']],
    ['todo delete', /Missing todo number/, USAGE['todo.delete']],
    ['todo comment 2', /^Missing comment text for todo comment\.$/, USAGE['todo.comment']],
    ['comment', /^Missing todo number or id for todo comment\.$/, USAGE['todo.comment']],
    ['comment Looks good', /^"Looks" is not a todo number/, USAGE['todo.comment']],
    ['sync', /^Say what to sync/, USAGE.sync],
    ['sync everything', /^Cannot sync "everything"/, USAGE.sync],
    ['sync __proto__', /^Cannot sync "__proto__"/, USAGE.sync],
    ['sync todos extra', /^Unexpected "extra" after sync todos\.$/, USAGE.sync],
    ['sync todos --force', /^Unknown flag --force for sync\.$/, USAGE.sync],
    ['sync status --dry-run', /^Unknown flag --dry-run for sync status\.$/, USAGE['sync.status']],
    ['sync resolve', /Missing conflict number or id/, USAGE['sync.resolve']],
    ['sync resolve 1', /Missing choice/, USAGE['sync.resolve']],
    ['project create', /^Missing project name for project create\.$/, USAGE['project.create']],
    ['project create X --description', /^Missing value for --description/, USAGE['project.create']],
    ['project show', /Missing project name or id/, USAGE['project.show']],
    ['project list now', /Unexpected "now"/, USAGE['project.list']],
    ['topic archive', /Missing topic name or id/, USAGE['topic.archive']],
    ['session show', /Missing session name or id/, USAGE['session.show']],
    ['subscribe project', /Missing project name or id for subscribe/, USAGE.subscribe],
    ['subscribe everything', /^Subscribe to what\?/, USAGE.subscribe],
    ['subscribe --domains todos,pets', /^Unknown domain "pets"/, USAGE.subscribe],
    ['subscribe --domains constructor', /^Unknown domain "constructor"/, USAGE.subscribe],
    ['unsubscribe me', /^Unsubscribe to what\?/, USAGE.unsubscribe],
    ['link a b', /Unexpected "b"/, USAGE['link.code']],
    ['link approve', /^Missing code for link approve\.$/, USAGE['link.approve']],
    ['more please', /Unexpected "please" after more/, USAGE.more],
    ['help --x', /Unknown flag --x for help/, USAGE.help],
  ])('%j', (text, error, usage) => {
    const r = parse(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(error);
    expect(r.usage).toBe(usage);
  });

  it('refuses text longer than 4000 characters', () => {
    const r = parse(`todo add ${'x'.repeat(4000)}`);
    expect(r).toEqual({ ok: false, error: expect.stringContaining('Command too long') as unknown, usage: GENERAL_USAGE });
    expect(parse(`todo add ${'x'.repeat(3990)}`).ok).toBe(true);
  });

  it('quotes long or odd input back shortened, never whole', () => {
    const r = parse(`frobnicate${'z'.repeat(200)}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeLessThan(80);
  });
});

describe('parseCommand: dates', () => {
  it('reads --due relative to now, forward only', () => {
    // Friday itself: "fri" means today-or-later, never last Friday.
    const friday = new Date('2025-06-06T08:00:00.000Z');
    const r = parseCommand('add x --due fri', friday, UTC);
    expect(r.ok && r.command.name === 'todo.add' && r.command.due).toBe('2025-06-06T12:00:00.000Z');
    const saturday = new Date('2025-06-07T08:00:00.000Z');
    const s = parseCommand('add x --due fri', saturday, UTC);
    expect(s.ok && s.command.name === 'todo.add' && s.command.due).toBe('2025-06-13T12:00:00.000Z');
  });

  it('honours a timezone offset', () => {
    const r = parseCommand('add x --due tomorrow 5pm', NOW, { timezone: -240 });
    expect(r.ok && r.command.name === 'todo.add' && r.command.due).toBe('2025-06-05T21:00:00.000Z');
  });

  it('defaults now to the current time and still returns an ISO string', () => {
    const r = parseCommand('add x --due tomorrow');
    expect(r.ok).toBe(true);
    if (r.ok && r.command.name === 'todo.add') {
      expect(r.command.due).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(r.command.due ?? '')).toBeGreaterThan(Date.now());
    }
  });

  it('survives an invalid now', () => {
    expect(parseCommand('add x --due fri', new Date(Number.NaN)).ok).toBe(true);
  });
});

/**
 * Sample replies shared by the renderer tests (data only). Not used by production code.
 */
import type { ItemStatus, Reply } from '../src/core/reply.ts';

const STATUSES: ItemStatus[] = ['pending', 'in_progress', 'completed', 'blocked'];

/** A short confirmation. */
export const shortOk: Reply = {
  kind: 'ok',
  title: 'Todo added',
  text: 'Added “Buy milk” to Groceries.',
  items: [{ ref: '2', id: '01J0000000000000000000TODO', text: 'Buy milk', status: 'pending', detail: 'Groceries' }],
  actions: [
    { id: 'todo.done:2', label: 'Done', command: 'done 2', style: 'primary' },
    { id: 'todo.delete:2', label: 'Delete', command: 'delete 2', style: 'danger' },
  ],
  footer: 'ChittyChat · project Groceries',
};

/** 200 todos with long texts: forces paging everywhere. */
export const longList: Reply = {
  kind: 'info',
  title: 'Todos in Renovation',
  text: 'All open and finished todos, newest first.',
  fields: [
    { label: 'Project', value: 'Renovation', inline: true },
    { label: 'Open', value: '150', inline: true },
  ],
  items: Array.from({ length: 200 }, (_, i) => ({
    ref: String(i + 1),
    text: `Task number ${i + 1}: ${'call the plumber about the leaking kitchen tap and then schedule the tiler '.repeat(3)}`.trim(),
    status: STATUSES[i % 4] as ItemStatus,
    detail: `due 2026-0${(i % 9) + 1}-1${i % 10} · assigned to alex`,
  })),
  actions: [{ id: 'todo.add', label: 'Add todo', command: 'todo add' }],
  footer: 'Reply with a number to act on a todo',
};

/** Non-ASCII: accents, smart punctuation, emoji, CJK. */
export const unicode: Reply = {
  kind: 'update',
  title: 'Café “Zürich” — naïve résumé 🎉',
  text: 'Ünïcödé … it’s “quoted” – with dashes—and\u00a0nbsp • bullets ✓ checks. 日本語のテキスト。家族👨‍👩‍👧‍👦 and flags 🇮🇹',
  fields: [{ label: '状態', value: '進行中 ⏳' }],
  items: [
    { ref: '1', text: '牛乳を買う', status: 'completed' },
    { ref: '2', text: 'Crème brûlée for Zoë', status: 'in_progress', detail: 'señor Muñoz' },
    { ref: '3', text: '🎂 birthday 🎈🎈🎈', status: 'blocked' },
  ],
  actions: [{ id: 'todo.done:1', label: '完了 ✅', command: 'done 1' }],
  footer: '— ChittyChat ™',
};

/** The 5000-character single word used by the hostile reply. */
export const LONG_WORD = 'A'.repeat(2500) + 'b'.repeat(2500);

/** Text that must never ping, inject markup, script or headers. */
export const hostile: Reply = {
  kind: 'error',
  title: 'Hi <!channel> @everyone <@U123> *bold*\r\nBcc: x@y',
  text: `<!channel> @everyone @here <@U123> <@!123456789> <@&987654321> <#C123> *bold* _it_ ~strike~ \`code\` > quote\n<script>alert(1)</script> [phish](https://evil.example) ${LONG_WORD}`,
  fields: [{ label: '<@U123>', value: '@everyone *x*' }],
  items: [
    { ref: '1', text: '<!here> <script>alert(1)</script>', status: 'pending', detail: '@everyone' },
    { ref: '2', text: LONG_WORD, status: 'completed' },
  ],
  actions: [{ id: '<@U123>', label: '@everyone <!channel>', command: 'done 1\r\nBcc: x@y' }],
  footer: '@here <!subteam^S123> *footer*',
};

/** Every sample by name, for table-driven tests. */
export const SAMPLES: Record<string, Reply> = { shortOk, longList, unicode, hostile };

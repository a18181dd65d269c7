// Projects and their todos (live), one todo with its history and time travel, open conflicts.
import { api, h, notice, when } from './api.js';

const MARK = { completed: '[x]', in_progress: '[~]', blocked: '[!]', pending: '[ ]' };

/** Projects and their todos; a change from any channel shows without reloading. */
export async function projectsPage(main) {
  const projects = new Map();
  const todos = new Map();
  const select = h('select', {
    id: 'project-filter',
    onchange: () => {
      sessionStorage.setItem('project', select.value);
      draw();
    },
  });
  const list = h('ul', { id: 'todos', class: 'items', 'aria-live': 'polite' });
  const count = h('p', { class: 'hint', id: 'todo-count' });
  main.append(h('h1', {}, 'Projects and todos'), h('div', { class: 'field' }, h('label', { for: 'project-filter' }, 'Project'), select), count, list);

  const [p, t] = await Promise.all([api('GET', '/projects?limit=1000'), api('GET', '/todos?limit=1000')]);
  for (const x of p.items) projects.set(x.chittyId, x);
  for (const x of t.items) todos.set(x.chittyId, x);

  function drawProjects() {
    const chosen = select.value || sessionStorage.getItem('project') || '';
    select.replaceChildren(
      h('option', { value: '' }, 'All todos'),
      ...[...projects.values()].sort((a, b) => String(a.name).localeCompare(String(b.name))).map((x) => h('option', { value: x.chittyId }, x.name)),
    );
    select.value = projects.has(chosen) ? chosen : '';
  }
  function draw() {
    const shown = [...todos.values()].filter((x) => !select.value || x.projectId === select.value);
    count.textContent = `${shown.length} todo${shown.length === 1 ? '' : 's'}`;
    list.replaceChildren(
      ...shown.map((x) =>
        h(
          'li',
          { 'data-id': x.chittyId, 'data-status': x.status },
          h('span', { class: 'mark', 'aria-hidden': 'true' }, MARK[x.status] ?? ''),
          h('a', { href: `#todo/${encodeURIComponent(x.chittyId)}` }, x.content),
          h('span', { class: 'meta' }, [x.status, projects.get(x.projectId)?.name, x.dueDate ? `due ${when(x.dueDate)}` : ''].filter(Boolean).join(' · ')),
        ),
      ),
    );
    if (shown.length === 0) list.append(h('li', { class: 'empty' }, 'No todos yet. Add one in the chat box: todo add Buy milk'));
  }
  drawProjects();
  draw();

  return {
    async onChange(m) {
      if (m.domain !== 'todos' && m.domain !== 'projects') return;
      const id = m.entity.chittyId;
      const map = m.domain === 'todos' ? todos : projects;
      try {
        map.set(id, await api('GET', `/${m.domain}/${encodeURIComponent(id)}`));
      } catch {
        map.delete(id); // deleted
      }
      if (m.domain === 'projects') drawProjects();
      draw();
    },
  };
}

function fields(entity) {
  return h(
    'dl',
    { class: 'fields' },
    ...Object.entries(entity)
      .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))]),
  );
}

/** datetime-local value (local time, seconds) for an ISO time. */
function localInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** One todo: its state now, every change, and its state at a chosen time. */
export async function todoPage(main, id) {
  const path = `/todos/${encodeURIComponent(id)}`;
  const [todo, history] = await Promise.all([api('GET', path), api('GET', `${path}/history`)]);
  const now = h('section', { 'aria-labelledby': 'now-h' }, h('h2', { id: 'now-h' }, 'Now'), fields(todo));
  const at = h('input', { id: 'at', type: 'datetime-local', step: '1', required: true, value: localInput(history.items.at(-1)?.recordedAt ?? new Date().toISOString()) });
  const result = h('div', { id: 'at-result', 'aria-live': 'polite' });
  /** Shows the state at `exact` (an event's own time) or at the end of the second the input shows. */
  const travel = async (ev, exact) => {
    ev?.preventDefault();
    const iso = exact ?? new Date(Date.parse(new Date(at.value).toISOString()) + 999).toISOString();
    try {
      const then = await api('GET', `${path}?at=${encodeURIComponent(iso)}`);
      result.replaceChildren(h('h3', {}, `As it was at ${when(iso)}`), fields(then));
    } catch (err) {
      result.replaceChildren(h('p', { class: 'notice error' }, err.message));
    }
  };
  const form = h('form', { id: 'time-travel', onsubmit: travel }, h('div', { class: 'field' }, h('label', { for: 'at' }, 'State at'), at), h('button', { type: 'submit' }, 'Show'));
  const events = h(
    'ol',
    { id: 'history', class: 'items' },
    ...history.items.map((e) =>
      h(
        'li',
        {},
        h('span', { class: 'meta' }, `${when(e.recordedAt)} · ${e.node}`),
        h('code', { class: 'change' }, JSON.stringify(e.change)),
        h(
          'button',
          {
            type: 'button',
            class: 'small',
            onclick: () => {
              at.value = localInput(e.recordedAt);
              travel(undefined, e.recordedAt);
            },
          },
          'State then',
        ),
      ),
    ),
  );
  main.append(
    h('p', {}, h('a', { href: '#projects' }, '← Projects')),
    h('h1', {}, todo.content ?? id),
    now,
    h('section', { 'aria-labelledby': 'tt-h' }, h('h2', { id: 'tt-h' }, 'Time travel'), form, result),
    h('section', { 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, `History (${history.items.length} changes)`), events),
  );
  return {
    async onChange(m) {
      if (m.entity.chittyId !== id) return;
      now.replaceChildren(h('h2', { id: 'now-h' }, 'Now'), fields(await api('GET', path)));
    },
  };
}

/** Open conflicts, every version side by side, a button to choose one. */
export async function conflictsPage(main) {
  const status = h('p', { role: 'status', class: 'notice' });
  const list = h('div', { id: 'conflicts' });
  main.append(h('h1', {}, 'Open conflicts'), status, list);

  async function load() {
    const { items } = await api('GET', '/sync/conflicts?status=open&limit=200');
    list.replaceChildren(...items.map(card));
    if (items.length === 0) list.append(h('p', { class: 'empty' }, 'No open conflicts.'));
  }
  function card(c) {
    const headingId = `c-${c.id}`;
    return h(
      'section',
      { class: 'card conflict', 'data-id': c.id, 'aria-labelledby': headingId },
      h('h2', { id: headingId }, `${c.domain} · ${c.field}`),
      h('p', { class: 'meta' }, c.domain === 'todos' ? h('a', { href: `#todo/${encodeURIComponent(c.entityId)}` }, c.entityId) : c.entityId, ` · since ${when(c.createdAt)}`),
      h(
        'div',
        { class: 'versions' },
        ...c.versions.map((v, i) =>
          h(
            'div',
            { class: 'version' },
            h('pre', {}, typeof v.value === 'string' ? v.value : JSON.stringify(v.value, null, 2)),
            h('p', { class: 'meta' }, `from ${v.node}`),
            h('button', { type: 'button', 'data-version': i, onclick: () => choose(c, i) }, `Choose version ${i + 1}`),
          ),
        ),
      ),
    );
  }
  async function choose(c, i) {
    try {
      await api('POST', `/sync/conflicts/${encodeURIComponent(c.id)}/resolve`, { version: i });
      notice(status, `Resolved ${c.field} with version ${i + 1}.`);
      await load();
    } catch (err) {
      notice(status, err.message, true);
    }
  }
  await load();
  return { onChange: (m) => m.type === 'conflict' && load() };
}

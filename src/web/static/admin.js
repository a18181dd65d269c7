// Deliveries and dead letters, subscriptions, pairing requests, and the chat box.
import { api, h, notice, when } from './api.js';

const STATUSES = ['', 'dead', 'failed', 'queued', 'sent'];
const CHANNELS = ['slack', 'discord', 'sms', 'whatsapp', 'email', 'webhook'];
const DOMAINS = ['projects', 'todos', 'sessions', 'topics', 'contexts', 'participants', 'events'];

/** Deliveries (newest first), dead letters with a retry button each and one for all. */
export async function deliveriesPage(main) {
  const status = h('p', { role: 'status', class: 'notice' });
  const filter = h('select', { id: 'delivery-status', onchange: () => load() }, ...STATUSES.map((s) => h('option', { value: s }, s || 'any')));
  const list = h('ul', { id: 'deliveries', class: 'items' });
  main.append(
    h('h1', {}, 'Deliveries'),
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'delivery-status' }, 'Status'), filter),
      h('button', { type: 'button', onclick: () => load() }, 'Refresh'),
      h('button', { type: 'button', id: 'retry-dead', onclick: () => act('/deliveries/retry-dead', (r) => `${r.requeued} dead letters sent again.`) }, 'Retry all dead'),
    ),
    status,
    list,
  );
  async function act(path, say) {
    try {
      notice(status, say(await api('POST', path)));
      await load();
    } catch (err) {
      notice(status, err.message, true);
    }
  }
  async function load() {
    const { items } = await api('GET', `/deliveries?limit=200${filter.value ? `&status=${filter.value}` : ''}`);
    list.replaceChildren(
      ...items.map((d) =>
        h(
          'li',
          { 'data-id': d.id, 'data-status': d.status },
          h('span', { class: `badge ${d.status}` }, d.status),
          h('span', {}, `${d.channel} → ${d.address}`),
          h('span', { class: 'meta' }, `${d.domain} ${d.entityId} · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · ${when(d.updatedAt)}`),
          d.lastError ? h('span', { class: 'meta error' }, d.lastError) : '',
          d.status === 'dead' || d.status === 'failed'
            ? h('button', { type: 'button', class: 'small', onclick: () => act(`/deliveries/${encodeURIComponent(d.id)}/retry`, () => `Delivery to ${d.address} sent again.`) }, 'Retry')
            : '',
        ),
      ),
    );
    if (items.length === 0) list.append(h('li', { class: 'empty' }, 'No deliveries.'));
  }
  await load();
}

/** Subscriptions: add one, pause or resume it, remove it. */
export async function subscriptionsPage(main) {
  const status = h('p', { role: 'status', class: 'notice' });
  const list = h('ul', { id: 'subscriptions', class: 'items' });
  const projects = (await api('GET', '/projects?limit=1000')).items;
  const channel = h('select', { id: 'sub-channel', name: 'channel' }, ...CHANNELS.map((c) => h('option', { value: c }, c)));
  const address = h('input', { id: 'sub-address', name: 'address', required: true, placeholder: 'https://example.com/hook, +15551234567, C0123…' });
  const project = h('select', { id: 'sub-project' }, h('option', { value: '' }, 'The whole hub'), ...projects.map((p) => h('option', { value: p.chittyId }, p.name)));
  const domainBoxes = DOMAINS.map((d) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: d }), ` ${d}`));
  const form = h(
    'form',
    { id: 'add-subscription', class: 'card', onsubmit: add },
    h('h2', {}, 'Add a subscription'),
    h('div', { class: 'field' }, h('label', { for: 'sub-channel' }, 'Channel'), channel),
    h('div', { class: 'field' }, h('label', { for: 'sub-address' }, 'Address'), address),
    h('div', { class: 'field' }, h('label', { for: 'sub-project' }, 'Follows'), project),
    h('fieldset', {}, h('legend', {}, 'Domains (none ticked = all)'), ...domainBoxes),
    h('button', { type: 'submit' }, 'Subscribe'),
  );
  main.append(h('h1', {}, 'Subscriptions'), status, list, form);

  async function add(ev) {
    ev.preventDefault();
    const domains = domainBoxes
      .map((l) => l.firstChild)
      .filter((b) => b.checked)
      .map((b) => b.value);
    await act(
      () => api('POST', '/subscriptions', { channel: channel.value, address: address.value.trim(), ...(project.value ? { projectId: project.value } : {}), ...(domains.length ? { domains } : {}) }),
      'Subscribed.',
    );
    address.value = '';
  }
  async function act(call, say) {
    try {
      await call();
      notice(status, say);
      await load();
    } catch (err) {
      notice(status, err.message, true);
    }
  }
  const names = new Map(projects.map((p) => [p.chittyId, p.name]));
  async function load() {
    const { items } = await api('GET', '/subscriptions');
    list.replaceChildren(
      ...items.map((s) =>
        h(
          'li',
          { 'data-id': s.id, 'data-paused': String(s.paused) },
          h('span', {}, `${s.channel} → ${s.address}${s.thread ? ` (thread ${s.thread})` : ''}`),
          h(
            'span',
            { class: 'meta' },
            `${s.projectId ? `project ${names.get(s.projectId) ?? s.projectId}` : s.topicId ? `topic ${s.topicId}` : 'whole hub'} · ${s.domains.length ? s.domains.join(', ') : 'all domains'}${s.paused ? ' · paused' : ''}`,
          ),
          h(
            'span',
            { class: 'buttons' },
            h(
              'button',
              { type: 'button', class: 'small', onclick: () => act(() => api('PATCH', `/subscriptions/${encodeURIComponent(s.id)}`, { paused: !s.paused }), s.paused ? 'Resumed.' : 'Paused.') },
              s.paused ? 'Resume' : 'Pause',
            ),
            h('button', { type: 'button', class: 'small danger', onclick: () => act(() => api('DELETE', `/subscriptions/${encodeURIComponent(s.id)}`), 'Removed.') }, 'Remove'),
          ),
        ),
      ),
    );
    if (items.length === 0) list.append(h('li', { class: 'empty' }, 'No subscriptions.'));
  }
  await load();
}

/** Pairing requests from strangers, each with an approve button. */
export async function pairingPage(main) {
  const status = h('p', { role: 'status', class: 'notice' });
  const list = h('ul', { id: 'pairing', class: 'items' });
  main.append(h('h1', {}, 'Pairing requests'), h('p', { class: 'hint' }, 'Someone new who writes to the bot gets a code; approve it here to let them in.'), status, list);
  async function load() {
    const { items } = await api('GET', '/pairing');
    list.replaceChildren(
      ...items.map((p) =>
        h(
          'li',
          { 'data-code': p.code },
          h('strong', {}, p.code),
          h('span', {}, p.identityKey),
          h('span', { class: 'meta' }, `expires ${when(p.expiresAt)}`),
          h('button', { type: 'button', class: 'small', onclick: () => approve(p) }, `Approve ${p.code}`),
        ),
      ),
    );
    if (items.length === 0) list.append(h('li', { class: 'empty' }, 'No pairing requests waiting.'));
  }
  async function approve(p) {
    try {
      const r = await api('POST', `/pairing/${encodeURIComponent(p.code)}/approve`);
      notice(status, `${r.identityKey} is now ${r.person.name}.`);
      await load();
    } catch (err) {
      notice(status, err.message, true);
    }
  }
  await load();
}

/** The chat box: the same commands as every channel (channel web), replies as the text renderer shows them. */
export async function chatPage(main) {
  const log = h('ol', { id: 'chat-log', class: 'chat', 'aria-live': 'polite' });
  const input = h('input', { id: 'chat-input', name: 'text', required: true, autocomplete: 'off', placeholder: 'todo add Pay rent --due tomorrow' });
  const send = h('button', { type: 'submit' }, 'Send');
  const form = h('form', { id: 'chat-form', onsubmit: submit }, h('label', { for: 'chat-input' }, 'Message'), h('div', { class: 'row' }, input, send));
  main.append(h('h1', {}, 'Chat'), h('p', { class: 'hint' }, 'Type what you would type in Slack or an SMS: help, todo add …, todo list, done 1, project list…'), log, form);
  for (const m of JSON.parse(sessionStorage.getItem('chat') ?? '[]')) log.append(entry(m.you, m.bot));
  input.focus();

  function entry(you, bot, error = false) {
    return h('li', {}, h('p', { class: 'you' }, h('span', { class: 'sr' }, 'You: '), you), h('pre', { class: error ? 'bot error' : 'bot' }, bot));
  }
  async function submit(ev) {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    try {
      const r = await api('POST', '/web/commands', { text, messageId: crypto.randomUUID() });
      log.append(entry(text, r.text));
      const saved = JSON.parse(sessionStorage.getItem('chat') ?? '[]');
      sessionStorage.setItem('chat', JSON.stringify([...saved, { you: text, bot: r.text }].slice(-50)));
      input.value = '';
    } catch (err) {
      log.append(entry(text, err.message, true));
    } finally {
      send.disabled = false;
      input.focus();
      log.lastElementChild?.scrollIntoView({ block: 'nearest' });
    }
  }
}

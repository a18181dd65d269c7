// The page's link to the gateway: /api/v1 with the session cookie, /ws live, a small DOM builder.

/** Every write carries this header: the gateway refuses cookie-authenticated writes without it (CSRF). */
const CSRF = { 'x-chitty-csrf': '1' };

/** Calls /api/v1<path>; resolves to the JSON body, throws an Error with the gateway's message. */
export async function api(method, path, body) {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(method === 'GET' ? {} : CSRF), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401) {
    // The session ended (signed out elsewhere, token changed): back to the sign-in form.
    location.assign('/');
    throw new Error('Signed out.');
  }
  const data = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(data?.error?.message ?? `${method} ${path} answered ${res.status}`);
  return data;
}

/**
 * Follows /ws (the cookie signs the upgrade in): every change to any domain reaches `onChange`;
 * `onStatus` gets 'live' or 'offline'. Reconnects with a growing pause.
 */
export function live(onChange, onStatus) {
  let pause = 500;
  const open = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 'page' })));
    ws.addEventListener('message', (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m.type === 'subscribed') {
        pause = 500;
        onStatus('live');
      } else if (m.domain && m.entity) onChange(m);
    });
    ws.addEventListener('close', () => {
      onStatus('offline');
      setTimeout(open, pause);
      pause = Math.min(pause * 2, 10_000);
    });
  };
  open();
}

/** h('li', { class: 'x', onclick: f }, 'text', child…): an element; text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** A short local date-time. */
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** A status line inside a page: role=status so screen readers hear it. */
export function notice(el, text, isError = false) {
  el.textContent = text;
  el.className = isError ? 'notice error' : 'notice';
}

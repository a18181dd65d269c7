// The signed-in page: a hash router over the pages, and one live /ws connection for all of them.
import { live } from './api.js';
import { conflictsPage, projectsPage, todoPage } from './pages.js';
import { chatPage, deliveriesPage, pairingPage, subscriptionsPage } from './admin.js';

const PAGES = {
  projects: projectsPage,
  todo: todoPage,
  chat: chatPage,
  conflicts: conflictsPage,
  deliveries: deliveriesPage,
  subscriptions: subscriptionsPage,
  pairing: pairingPage,
};

const main = document.getElementById('main');
/** The page on screen: { onChange? } as returned by a page function. */
let current = {};

async function show() {
  const [name, ...rest] = location.hash.replace(/^#/, '').split('/');
  const page = PAGES[name] ? name : 'projects';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  main.dataset.page = page;
  current = {};
  try {
    current = (await PAGES[page](main, decodeURIComponent(rest.join('/')))) ?? {};
  } catch (err) {
    const p = document.createElement('p');
    p.className = 'notice error';
    p.textContent = err.message;
    main.append(p);
  }
  main.dataset.ready = 'true';
}

window.addEventListener('hashchange', () => {
  main.dataset.ready = 'false';
  show().then(() => main.focus());
});
show();

const status = document.getElementById('live');
live(
  (change) => current.onChange?.(change),
  (s) => {
    status.textContent = s === 'live' ? 'Live' : 'Offline, reconnecting…';
    status.dataset.state = s;
  },
);

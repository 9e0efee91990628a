/**
 * The fleetchat web UI: a hash router over four pages (chat, anonymous battle, named side by side, leaderboard),
 * the API-key dialog, and the first check whether the gateway wants a key (`/ui/config.json`, public).
 */
import { getJson, setUnauthorizedHandler } from './api';
import { BattlePage } from './battle-page';
import { ChatPage } from './chat-page';
import { KeyDialog } from './key-dialog';
import { loadKey } from './key-store';
import { LeaderboardPage } from './leaderboard-page';
import type { Page } from './page';
import type { UiConfig } from './wire';

const pages: Record<string, Page> = {
  chat: new ChatPage(),
  battle: new BattlePage('anony'),
  'side-by-side': new BattlePage('named'),
  leaderboard: new LeaderboardPage(),
};

const main = document.getElementById('main') as HTMLElement;
let current: Page | undefined;

function routeName(): string | undefined {
  const m = /^#\/([a-z-]+)$/.exec(location.hash);
  if (!m) return location.hash === '' || location.hash === '#' || location.hash === '#/' ? 'chat' : undefined;
  return m[1] in pages ? m[1] : 'chat';
}

/** Shows the page of the URL's hash; `load` = false shows it without calling the API (no key yet). */
function showRoute(options: { focus: boolean; load: boolean; initial?: boolean }): void {
  const name = routeName() ?? (options.initial ? 'chat' : undefined);
  if (name === undefined) return; // an in-page anchor such as the skip link
  const page = pages[name];
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (page !== current) {
    main.replaceChildren(page.element);
    current = page;
    document.title = `${page.title} · fleetchat`;
    if (options.focus) page.element.querySelector<HTMLElement>('h1')?.focus();
  }
  if (options.load) void page.show();
}

const dialog = new KeyDialog(() => current?.show());
document.body.append(dialog.element);
setUnauthorizedHandler((message) => dialog.open(`The gateway refused the request: ${message}`));
document.getElementById('key-button')?.addEventListener('click', () => dialog.open());
window.addEventListener('hashchange', () => showRoute({ focus: true, load: true }));

async function start(): Promise<void> {
  try {
    const config = await getJson<UiConfig>('/ui/config.json');
    if (config.auth_required && loadKey() === '') {
      showRoute({ focus: false, load: false, initial: true });
      dialog.open('This gateway needs an API key.');
      return;
    }
  } catch {
    // No config: go on, a 401 will open the dialog.
  }
  showRoute({ focus: false, load: true, initial: true });
}

void start();

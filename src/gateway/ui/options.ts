/** Gateway flags of the web UI (spread into `gatewayOptions`). */
import { boolOption, stringOption } from '../../common/config';

export const uiOptions = {
  ui: boolOption({ flag: '--ui', description: 'serve the web UI (chat, arena, leaderboard) at /', default: true }),
  uiDir: stringOption({ flag: '--ui-dir', description: 'directory of a built web UI to serve instead of the bundled one', default: '' }),
};

/** What the UI needs to be reachable without an API key: the page and its assets (the API still needs the key). */
export const UI_PUBLIC_PATHS = ['/', '/ui/*'];

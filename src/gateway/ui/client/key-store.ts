/** The API key the user pasted, kept in localStorage (the page is public; the API may need a key). */
const STORAGE_KEY = 'fleetchat.apiKey';

export function loadKey(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? '';
  } catch {
    return '';
  }
}

export function saveKey(key: string): void {
  try {
    if (key === '') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, key);
  } catch {
    // Storage disabled (private mode): the key lasts for this page only.
  }
}

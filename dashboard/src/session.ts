// The API key is kept for the browser tab's session only: sessionStorage is cleared when the tab closes
// and is never sent to the server on its own, unlike a cookie.
const KEY = "stepwise.apiKey";

export function loadKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveKey(key: string): void {
  try {
    sessionStorage.setItem(KEY, key);
  } catch {
    // Storage can be disabled (private modes); the key then lasts until the page is reloaded.
  }
}

export function clearKey(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}

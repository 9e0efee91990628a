/**
 * Waiting assertions on playwright-core locators (playwright-core has no test runner): each polls until jest's
 * `expect` passes or the time is up, then fails with jest's message.
 */
import type { Locator } from 'playwright-core';

/** The browser globals used inside `evaluate` callbacks (the tests are compiled without the DOM library). */
declare const document: { activeElement: unknown };

export async function eventually(assertion: () => Promise<void> | void, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The text of every element matched, in order (exact strings) or of the one element (regular expression). */
export function hasText(locator: Locator, expected: string | RegExp | string[]): Promise<void> {
  return eventually(async () => {
    const texts = await locator.allTextContents();
    if (Array.isArray(expected)) expect(texts).toEqual(expected);
    else if (typeof expected === 'string') expect(texts).toEqual([expected]);
    else {
      expect(texts).toHaveLength(1);
      expect(texts[0]).toMatch(expected);
    }
  });
}

export function containsText(locator: Locator, part: string): Promise<void> {
  return eventually(async () => expect(await locator.textContent()).toContain(part));
}

export function hasCount(locator: Locator, count: number): Promise<void> {
  return eventually(async () => expect(await locator.count()).toBe(count));
}

export function isDisabled(locator: Locator, disabled = true): Promise<void> {
  return eventually(async () => expect(await locator.isDisabled()).toBe(disabled));
}

export function isFocused(locator: Locator): Promise<void> {
  return eventually(async () => expect(await locator.evaluate((el) => el === document.activeElement)).toBe(true));
}

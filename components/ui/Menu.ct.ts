/**
 * The shared Menu in chromium (components/ui/testing/mount.ts): it opens and closes from the
 * button, Escape and a press outside close it, items fire, the arrow keys walk the items, and
 * the focus returns to the button after Escape or an action.
 */
import { expect, sceneFile, test } from './testing/mount.ts';

const SCENES = sceneFile(import.meta.url, './Menu.scenes.tsx');

test.describe('kind menu', () => {
  test('the button says it opens a menu; a click opens it with the focus on the first item, a second click closes it', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Actions');
    const button = page.getByTestId('menu-button');
    await expect(button).toHaveAttribute('aria-haspopup', 'menu');
    await expect(button).toHaveAttribute('aria-expanded', 'false');
    await expect(page.getByRole('menu')).toHaveCount(0);

    await button.click();
    await expect(button).toHaveAttribute('aria-expanded', 'true');
    const menu = page.getByRole('menu', { name: 'Actions ▾' });
    await expect(menu).toBeVisible();
    await expect(button).toHaveAttribute('aria-controls', (await menu.getAttribute('id'))!);
    await expect(menu.getByRole('menuitem')).toHaveText(['copy', 'paste', 'delete']);
    // The caption is in the popover but not one of the menu's items.
    await expect(page.getByTestId('menu-header')).toBeVisible();
    await expect(menu.getByTestId('menu-header')).toHaveCount(0);
    await expect(page.getByTestId('item-copy')).toBeFocused();

    await button.click();
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(button).toHaveAttribute('aria-expanded', 'false');
    await expect(page.getByTestId('event-log').locator('li')).toHaveCount(0);
  });

  test('clicking an item fires it once and closes the menu; the focus is back on the button', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Actions');
    await page.getByTestId('menu-button').click();
    await page.getByTestId('item-paste').click();
    await expect(page.getByTestId('event-log').locator('li')).toHaveText(['paste']);
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(page.getByTestId('menu-button')).toBeFocused();
  });

  test('Escape closes without firing anything and returns the focus to the button', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Actions');
    await page.getByTestId('menu-button').click();
    await expect(page.getByTestId('item-copy')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(page.getByTestId('menu-button')).toHaveAttribute('aria-expanded', 'false');
    await expect(page.getByTestId('menu-button')).toBeFocused();
    await expect(page.getByTestId('event-log').locator('li')).toHaveCount(0);
  });

  test('a press outside closes without firing anything; the focus stays where the press put it', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Actions');
    await page.getByTestId('menu-button').click();
    await expect(page.getByRole('menu')).toBeVisible();
    await page.getByTestId('outside').click();
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(page.getByTestId('outside')).toBeFocused();
    await expect(page.getByTestId('event-log').locator('li')).toHaveCount(0);
  });

  test('the arrow keys, Home and End walk the enabled items and wrap; Enter fires the focused one', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Actions', { disableMiddle: true });
    const button = page.getByTestId('menu-button');
    await button.focus();
    await page.keyboard.press('ArrowDown');
    await expect(page.getByTestId('item-copy')).toBeFocused();
    // paste is disabled: skipped.
    await page.keyboard.press('ArrowDown');
    await expect(page.getByTestId('item-delete')).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(page.getByTestId('item-copy')).toBeFocused();
    await page.keyboard.press('ArrowUp');
    await expect(page.getByTestId('item-delete')).toBeFocused();
    await page.keyboard.press('Home');
    await expect(page.getByTestId('item-copy')).toBeFocused();
    await page.keyboard.press('End');
    await expect(page.getByTestId('item-delete')).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('event-log').locator('li')).toHaveText(['delete']);
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(button).toBeFocused();
  });

  test('ArrowUp on the closed button opens the menu on its last item; Tab closes it', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Actions');
    await page.getByTestId('menu-button').focus();
    await page.keyboard.press('ArrowUp');
    await expect(page.getByTestId('item-delete')).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(page.getByTestId('event-log').locator('li')).toHaveCount(0);
  });
});

test.describe('kind dialog', () => {
  test('opens a named dialog with the focus on its first control; its form works and keeps it open', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Dialog');
    const button = page.getByTestId('dialog-button');
    await expect(button).toHaveAttribute('aria-haspopup', 'dialog');
    await button.click();
    const dialog = page.getByRole('dialog', { name: 'New session' });
    await expect(dialog).toBeVisible();
    await expect(button).toHaveAttribute('aria-controls', (await dialog.getAttribute('id'))!);
    await expect(page.getByTestId('dialog-name')).toBeFocused();
    await page.keyboard.type('load test');
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('event-log').locator('li')).toHaveText(['open true', 'create load test']);
    await expect(dialog).toBeVisible();
    await expect(page.getByTestId('open-state')).toHaveText('open');
  });

  test('controlled: Escape and a press outside each report open=false to the owner, Escape returns the focus', async ({ page, mountScene }) => {
    await mountScene(SCENES, 'Dialog');
    const button = page.getByTestId('dialog-button');
    await button.click();
    await expect(page.getByTestId('dialog-name')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.getByTestId('open-state')).toHaveText('closed');
    await expect(button).toBeFocused();

    await button.click();
    await expect(page.getByRole('dialog')).toBeVisible();
    await page.getByTestId('outside').click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.getByTestId('event-log').locator('li')).toHaveText(['open true', 'open false', 'open true', 'open false']);
  });
});

import { expect, test } from '@jupyterlab/galata';

import { openPanel, pushFromFileBrowser, shot, startEmpty } from './helpers';

test.use({ viewport: { width: 1280, height: 1000 } });

/**
 * Issue 14: a push identical to an existing version (same sha256) says so, as a warning the
 * user decides about, and the version row carries "identical to v1". Once per theme.
 */
for (const theme of ['light', 'dark'] as const) {
  test(`an identical push says so (${theme} theme)`, async ({ page }) => {
    test.setTimeout(120 * 1000);
    await startEmpty(page.request);
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    const name = `same-${theme}`;
    const panel = await openPanel(page);
    await pushFromFileBrowser(page, name);
    await expect(panel.locator(`[data-ref="${name}:1"]`)).toBeVisible({ timeout: 60 * 1000 });
    await pushFromFileBrowser(page, name);
    const second = panel.locator(`[data-ref="${name}:2"]`);
    await expect(second).toBeVisible({ timeout: 60 * 1000 });
    await expect(second).toContainText('identical to v1');
    const toast = page.locator('.Toastify__toast', {
      hasText: `Pushed ${name}:2; it is identical to v1 (same sha256).`
    });
    await expect(toast).toBeVisible();
    await shot(page, `${theme}-28-identical-push`);
  });
}

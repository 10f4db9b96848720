import { expect, test } from '@jupyterlab/galata';

import { openPanel, pushFromFileBrowser, SEED_REQUEST, shot, startEmpty } from './helpers';

/**
 * The seed's workflow from the panel and the file browser only, on the real local backend:
 * push iris.joblib, deploy locally, InService, send the seed's request, see
 * {"predictions": [0]}, delete, clean up to an empty list. Once per theme, with screenshots.
 */
// Tall enough that the whole panel fits in its screenshots.
test.use({ viewport: { width: 1280, height: 1500 } });

for (const theme of ['light', 'dark'] as const) {
  test(`iris workflow from the panel (${theme} theme)`, async ({ page }) => {
    test.setTimeout(180 * 1000);
    await startEmpty(page.request);
    const errors: string[] = [];
    page.on('console', m => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', e => errors.push(e.message));
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    const model = `iris-${theme}`;
    const panel = await openPanel(page);
    // The page loaded before startEmpty's cleanup: the panel catches up by itself (issue 14).
    await expect(panel.locator('[data-ref]')).toHaveCount(0, { timeout: 30 * 1000 });
    await shot(page, `${theme}-0-panel`);

    // Push from the file browser's context menu.
    await pushFromFileBrowser(page, model, theme);
    const row = panel.locator(`[data-ref="${model}:1"]`);
    await expect(row).toBeVisible({ timeout: 60 * 1000 });
    await expect(row).toHaveAttribute('aria-pressed', 'true');
    await expect(row).toContainText(/sklearn \d+\.\d+/);
    await shot(panel, `${theme}-3-pushed`);

    // Deploy locally with the suggested name; watch it reach InService.
    await expect(panel.getByLabel('Endpoint name')).toHaveValue(`${model}-v1`);
    await panel.getByRole('button', { name: 'Deploy', exact: true }).click();
    const endpoint = panel.locator(`[data-endpoint="${model}-v1"]`);
    await expect(endpoint.locator('.jp-smops-chip')).toHaveText('InService', {
      timeout: 90 * 1000
    });
    await shot(panel, `${theme}-4-in-service`);

    // Test inference: the editor starts with the version's sample input.
    const editor = panel.getByLabel('Request body');
    await expect(editor).toHaveValue(JSON.stringify(JSON.parse(SEED_REQUEST)));
    await editor.fill(SEED_REQUEST);
    await panel.getByRole('button', { name: 'Send request' }).click();
    const body = panel.getByTestId('smops-response-body');
    await expect(body).toBeVisible();
    expect(JSON.parse((await body.textContent()) ?? '')).toEqual({ predictions: [0] });
    await expect(panel.getByTestId('smops-response-status')).toHaveText('200');
    await panel.getByRole('button', { name: 'Send request' }).click();
    await expect(panel.locator('.jp-smops-chart-bar')).toHaveCount(2);
    await shot(panel, `${theme}-5-inference`);

    // A second endpoint, left for cleanup.
    const deployButton = panel.getByRole('button', { name: 'Deploy', exact: true });
    await expect(deployButton).toHaveText('Deploy'); // the first deploy's job has finished
    await expect(panel.getByLabel('Endpoint name')).toHaveValue(`${model}-v1-2`);
    // The name rule is the server's (status.rules.names), described in its words.
    await panel.getByLabel('Endpoint name').fill(`${model}_extra`);
    await expect(panel.locator('.jp-smops-field-error')).toHaveText(
      /^Use 1-63 letters, digits and hyphens/
    );
    await expect(deployButton).toBeDisabled();
    await panel.getByLabel('Endpoint name').fill(`${model}-extra`);
    await panel.getByRole('button', { name: 'Deploy', exact: true }).click();
    await expect(
      panel.locator(`[data-endpoint="${model}-extra"] .jp-smops-chip`)
    ).toHaveText('InService', { timeout: 90 * 1000 });

    // Delete the first one, with confirmation.
    await endpoint.getByRole('button', { name: `Delete ${model}-v1` }).click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText(`Delete ${model}-v1`);
    await shot(dialog.locator('.jp-Dialog-content'), `${theme}-6-delete-confirm`);
    await dialog.getByRole('button', { name: `Delete ${model}-v1` }).click();
    await expect(endpoint).toHaveCount(0, { timeout: 60 * 1000 });

    // Cleanup: dry run lists the other endpoint, then delete everything listed.
    await panel.getByRole('button', { name: 'Preview cleanup' }).click();
    await expect(panel.getByRole('list', { name: 'Would be deleted' })).toContainText(
      `endpoint ${model}-extra`
    );
    await shot(panel, `${theme}-7-cleanup-preview`);
    await panel.getByRole('button', { name: 'Delete everything listed' }).click();
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Delete all' }).click();
    await expect(panel.getByTestId('smops-cleanup-empty')).toBeVisible({
      timeout: 60 * 1000
    });
    await expect(panel.locator('[data-endpoint]')).toHaveCount(0);
    await shot(panel, `${theme}-8-clean`);
    expect(errors).toEqual([]);
  });
}

test('file browser validates a model.tar.gz', async ({ page }) => {
  // Build one with the server's own packaging, as `%smops package` would.
  const built = await page.request.post('/smops/api/packages', {
    data: { path: 'iris.joblib', out: 'model.tar.gz' }
  });
  expect(built.status()).toBe(200);
  await page.sidebar.openTab('filebrowser');
  await page.filebrowser.openHomeDirectory();
  await page.filebrowser.refresh();
  await page.locator('.jp-DirListing-item', { hasText: 'model.tar.gz' }).click({ button: 'right' });
  await expect(page.getByRole('menuitem', { name: 'Push to model registry…' })).toHaveCount(0);
  await page.getByRole('menuitem', { name: 'Validate SageMaker package' }).click();
  const toast = page.locator('.Toastify__toast', { hasText: 'is a valid SageMaker package' });
  await expect(toast).toBeVisible({ timeout: 60 * 1000 });
  await expect(toast).toContainText('model.tar.gz');
  // Details lists every check by its real result (passing ones say "ok", never "error").
  await toast.getByRole('button', { name: 'Details' }).click();
  const details = page.locator('.jp-Dialog');
  const checks = details.locator('.jp-smops-checks li');
  await expect(checks.first()).toBeVisible();
  expect(await checks.count()).toBeGreaterThan(3);
  for (const status of await details.locator('.jp-smops-check-status').allTextContents()) {
    expect(['ok', 'warning']).toContain(status);
  }
  await shot(details.locator('.jp-Dialog-content'), 'light-19-validate-details');
  await page.theme.setDarkTheme();
  await shot(details.locator('.jp-Dialog-content'), 'dark-19-validate-details');
  await details.getByRole('button', { name: 'Close' }).click();
});

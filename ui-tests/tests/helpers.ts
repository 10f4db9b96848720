import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';
import * as path from 'path';

export const SEED_REQUEST = '{"instances": [[5.1, 3.5, 1.4, 0.2]]}';

/** Opens the SageMaker MLOps sidebar and waits for its header to know the backend. */
export async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.getByRole('tab', { name: 'SageMaker MLOps' }).click();
  const panel = page.locator('#jp-smops-panel');
  await expect(panel.getByTestId('smops-backend')).toBeVisible();
  return panel;
}

/** Saves a screenshot of the panel (or the page) under ui-tests/screenshots/. */
export async function shot(
  target: Locator | IJupyterLabPageFixture,
  name: string
): Promise<void> {
  await target.screenshot({
    path: path.join(__dirname, '..', 'screenshots', `${name}.png`)
  });
}

/** Pushes the server root's iris.joblib from the file browser's context menu. */
export async function pushFromFileBrowser(
  page: IJupyterLabPageFixture,
  name: string,
  screenshotPrefix?: string
): Promise<void> {
  // One left panel at a time: show the file browser (the push brings the panel back).
  await page.sidebar.openTab('filebrowser');
  await page.filebrowser.openHomeDirectory();
  const item = page.locator('.jp-DirListing-item', { hasText: 'iris.joblib' });
  await item.click({ button: 'right' });
  const menuItem = page.getByRole('menuitem', { name: 'Push to model registry…' });
  await expect(menuItem).toBeVisible();
  if (screenshotPrefix) {
    await shot(page, `${screenshotPrefix}-1-context-menu`);
  }
  await menuItem.click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByLabel('Registry name').fill(name);
  await dialog.getByLabel('Sample input (JSON, optional)').fill(SEED_REQUEST);
  if (screenshotPrefix) {
    await shot(dialog.locator('.jp-Dialog-content'), `${screenshotPrefix}-2-push-dialog`);
  }
  await dialog.getByRole('button', { name: 'Push' }).click();
  await expect(dialog).toHaveCount(0);
}

/**
 * Deletes every endpoint and registry version of the test owner (one server serves every spec):
 * a spec's screenshots then show its own state, not the models earlier specs left, which pushed
 * the endpoint rows and Test inference below the window.
 */
export async function startEmpty(request: APIRequestContext): Promise<void> {
  const started = await request.post('/smops/api/cleanup', {
    data: { dry_run: false, include_registry: true }
  });
  expect(started.status()).toBe(202);
  const { job } = await started.json();
  await expect
    .poll(async () => (await (await request.get(`/smops/api/jobs/${job.id}`)).json()).state, {
      timeout: 60 * 1000
    })
    .toBe('succeeded');
}

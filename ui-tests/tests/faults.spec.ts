import { expect, test } from '@jupyterlab/galata';

import { openPanel, pushFromFileBrowser, shot } from './helpers';

test.use({ viewport: { width: 1280, height: 1200 } });

/**
 * Against the fault-injecting endpoints backend (every deploy fails the ping health check):
 * the panel shows the endpoint as Failed with SageMaker's reason, and the error notification
 * carries the server's message.
 */
test('a failing deploy shows its reason', async ({ page }) => {
  const panel = await openPanel(page);
  await pushFromFileBrowser(page, 'broken');
  await expect(panel.locator('[data-ref="broken:1"]')).toBeVisible({ timeout: 60 * 1000 });

  await panel.getByRole('button', { name: 'Deploy', exact: true }).click();
  const endpoint = panel.locator('[data-endpoint="broken-v1"]');
  await expect(endpoint.locator('.jp-smops-chip')).toHaveText('Failed', { timeout: 30 * 1000 });
  await expect(endpoint.getByRole('alert')).toContainText('did not pass the ping health check');

  // The server's key sentence leads: the action's title gives way when both do not fit (a
  // sentence longer than a toast is cut at a clause, the whole of it is in Details).
  const toast = page.locator('.Toastify__toast', { hasText: 'did not pass the ping health check' });
  await expect(toast).toBeVisible();
  await shot(page, 'light-9-failed-deploy');
  // A toast shows whole sentences (JupyterLab cuts past 140 characters); "Details" shows the
  // server's whole message and code as text, not JSON.
  expect((await toast.locator('.jp-toast-message').textContent())!.length).toBeLessThanOrEqual(140);
  await toast.getByRole('button', { name: 'Details' }).click();
  const details = page.locator('.jp-Dialog');
  await expect(details).toContainText('did not pass the ping health check');
  await expect(details).toContainText('UpstreamError');
  await expect(details.locator('.jp-smops-error-details')).not.toContainText('{');
  await shot(details.locator('.jp-Dialog-content'), 'light-9-failed-deploy-details');
  await page.theme.setDarkTheme();
  await shot(page, 'dark-9-failed-deploy-details');
  await details.getByRole('button', { name: 'Close' }).click();
  await shot(page, 'dark-9-failed-deploy');

  // A Failed endpoint never serves: its row offers its logs and Delete, not Test, Expose or Extend.
  await expect(endpoint.getByRole('button')).toHaveText(['Logs', 'Delete']);

  // The failed endpoint can still be deleted from the panel.
  await endpoint.getByRole('button', { name: 'Delete broken-v1' }).click();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Delete broken-v1' }).click();
  await expect(endpoint).toHaveCount(0, { timeout: 30 * 1000 });
});

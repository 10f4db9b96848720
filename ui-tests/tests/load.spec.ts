import { expect, test } from '@jupyterlab/galata';

/**
 * Do not override the page fixture: the console listener must be attached before JupyterLab
 * boots so that errors thrown during plugin activation are caught too.
 */
test.use({ autoGoto: false });

test('JupyterLab loads with jupyter-smops active and no console errors', async ({
  page
}) => {
  const errors: string[] = [];
  const logs: string[] = [];
  page.on('console', message => {
    if (message.type() === 'error') {
      errors.push(message.text());
    }
    logs.push(message.text());
  });
  page.on('pageerror', error => errors.push(`pageerror: ${error.message}`));

  await page.goto();

  // The plugin announces its activation once JupyterLab has started it.
  await expect
    .poll(() => logs.filter(l => l.includes('jupyter-smops is activated')).length)
    .toBeGreaterThan(0);
  const activated = await page.evaluate(() =>
    (window as any).jupyterapp.isPluginActivated('jupyter-smops:plugin')
  );
  expect(activated).toBe(true);

  // The sidebar tab opens the panel, whose header says where things go: the server
  // extension answered with the frontend's version (no mismatch banner, no error).
  await page.getByRole('tab', { name: 'SageMaker MLOps' }).click();
  const panel = page.locator('#jp-smops-panel');
  await expect(panel.getByTestId('smops-backend')).toHaveText('Local');
  await expect(panel.getByRole('alert')).toHaveCount(0);
  await expect(panel.getByRole('heading', { name: 'Models' })).toBeVisible();
  expect(errors).toEqual([]);
});

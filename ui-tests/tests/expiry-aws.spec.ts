import { expect, test } from '@jupyterlab/galata';

import { openPanel, pushFromFileBrowser, shot } from './helpers';

test.use({ viewport: { width: 1280, height: 1500 } });

/**
 * The aws backend against moto, with an admin cap of 1 d (SMOPS_MAX_EXPIRES_IN in the aws
 * profile): the deploy form offers the default within the cap and no "No expiry"; a SageMaker
 * endpoint shows its time left with the cost until then; Extend moves its schedule; Expose
 * asks for the usage plan's limits, then shows the public URL, the API key once and a curl
 * example; the row keeps the URL (with copy) until Unexpose, which asks first.
 */
test('aws backend (moto): expiry within the cap, extend, expose and unexpose a SageMaker endpoint', async ({
  page
}) => {
  test.setTimeout(150 * 1000);
  // A name of its own per run: a reused server (reuseExistingServer) still has older ones.
  const name = `iris-front-${Date.now().toString(36)}`;
  const panel = await openPanel(page);
  await pushFromFileBrowser(page, name);
  await expect(panel.locator(`[data-ref="${name}:1"]`)).toBeVisible({ timeout: 60 * 1000 });

  await panel.getByRole('checkbox', { name: 'Local endpoint (this machine)' }).uncheck();
  await panel.getByLabel('Instance type').selectOption('ml.m5.large');
  await panel.getByLabel('Endpoint name').fill(name);
  const expiry = panel.locator('.jp-smops-expiry');
  await expect(expiry).toContainText('Your administrator allows at most 1 d on SageMaker.');
  await expect(expiry.getByRole('checkbox', { name: /No expiry/ })).toHaveCount(0);
  // Past the cap: refused before asking the server.
  await panel.getByLabel('Expires after (amount)').fill('2');
  await panel.getByLabel('Expires after (unit)').selectOption('d');
  await expect(expiry.getByRole('alert')).toHaveText(
    /^2 d is longer than the 1 d your administrator allows on SageMaker/
  );
  await expect(panel.getByRole('button', { name: 'Deploy', exact: true })).toBeDisabled();
  await shot(panel.locator('section[aria-labelledby="jp-smops-deploy"]'), 'light-24-aws-expiry-cap');
  await panel.getByLabel('Expires after (amount)').fill('2');
  await panel.getByLabel('Expires after (unit)').selectOption('h');
  // Two hours of one ml.m5.large at $0.115/h.
  await expect(expiry).toContainText('about $0.23 until then');
  await panel.getByRole('button', { name: 'Deploy', exact: true }).click();

  const row = panel.locator(`[data-endpoint="${name}"]`);
  await expect(row.locator('.jp-smops-chip')).toHaveText('InService', { timeout: 60 * 1000 });
  const left = row.getByTestId('smops-expiry');
  await expect(left).toHaveText(/^Expires in (1 h 59 min|2 h) · \$0\.23 until then$/);

  // +4 h would pass nothing (6 h < 1 d): moves the EventBridge schedule.
  await row.getByRole('button', { name: `Change the expiry of ${name}` }).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByRole('radio', { name: /^4 h later/ }).check();
  await expect(dialog.getByTestId('smops-extend-preview')).toHaveText(
    /^Then: Expires in 5 h 59 min · about \$0\.69 until then\.$|^Then: Expires in 6 h · about \$0\.69 until then\.$/
  );
  await dialog.getByRole('button', { name: `Apply the new expiry of ${name}` }).click();
  await expect(left).toHaveText(/^Expires in (5 h 59 min|6 h) · \$0\.69 until then$/);

  // Expose: what it creates and its limits, then the URL and the key, once.
  await row.getByRole('button', { name: `Expose ${name} at a public URL` }).click();
  await expect(dialog).toContainText(`This creates a public HTTPS URL for ${name}`);
  await dialog.getByLabel('Requests per second (steady)').fill('5');
  await shot(dialog.locator('.jp-Dialog-content'), 'light-25-aws-expose-confirm');
  await dialog.getByRole('button', { name: `Create the public URL of ${name}` }).click();
  await expect(dialog).toContainText(`Public URL of ${name}`, { timeout: 30 * 1000 });
  const url = dialog.getByLabel('Public URL', { exact: true });
  await expect(url).toHaveText(/^https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com\/prod\/invocations$/);
  const key = (await dialog.getByLabel('API key', { exact: true }).textContent()) ?? '';
  expect(key.length).toBeGreaterThan(10);
  await expect(dialog.getByRole('note')).toContainText('This key is shown only now');
  await expect(dialog.getByLabel('curl example', { exact: true })).toContainText(`x-api-key: ${key}`);
  await expect(dialog).toContainText('Limits: 5 requests/s (bursts of 20), 10,000 requests/day.');
  await shot(dialog.locator('.jp-Dialog-content'), 'light-26-aws-public-front');
  await page.theme.setDarkTheme();
  await shot(dialog.locator('.jp-Dialog-content'), 'dark-26-aws-public-front');
  const publicUrl = (await url.textContent()) ?? '';
  await dialog.getByRole('button', { name: 'Done' }).click();

  // The row keeps the URL (never the key), with copy; Unexpose asks first.
  await expect(row.getByTestId('smops-public-url')).toContainText(publicUrl);
  await expect(row).not.toContainText(key);
  await shot(panel, 'dark-27-aws-row-public-url');
  await page.theme.setLightTheme();
  await shot(panel, 'light-27-aws-row-public-url');
  await row.getByRole('button', { name: `Remove the public URL of ${name}` }).click();
  await expect(dialog).toContainText('Its URL and API key stop working at once');
  await dialog.getByRole('button', { name: `Remove the public URL of ${name}` }).click();
  await expect(row.getByTestId('smops-public-url')).toHaveCount(0, { timeout: 30 * 1000 });
  await expect(row.getByRole('button', { name: `Expose ${name} at a public URL` })).toBeVisible();

  // Delete the endpoint (its schedule goes with it).
  await row.getByRole('button', { name: `Delete ${name}` }).click();
  await dialog.getByRole('button', { name: `Delete ${name}` }).click();
  await expect(row).toHaveCount(0, { timeout: 60 * 1000 });
});

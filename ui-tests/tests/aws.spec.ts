import { expect, test } from '@jupyterlab/galata';

import { openPanel, pushFromFileBrowser, shot } from './helpers';

test.use({ viewport: { width: 1280, height: 1400 } });

/**
 * The aws backend against a moto server: the header names region, account and bucket; a push
 * goes to S3; a SageMaker deploy (not local) shows the instance type's price before deploying
 * and the endpoint's cost per hour and so far once it is InService.
 */
test('aws backend (moto): deploy to SageMaker shows the endpoint with its cost', async ({ page }) => {
  test.setTimeout(120 * 1000);
  const panel = await openPanel(page);
  await expect(panel.getByTestId('smops-backend')).toHaveText('AWS us-east-1');
  await expect(panel.locator('.jp-smops-facts')).toContainText('123456789012');
  await expect(panel).toContainText('sagemaker-us-east-1-123456789012');

  await pushFromFileBrowser(page, 'iris');
  await expect(panel.locator('[data-ref="iris:1"]')).toBeVisible({ timeout: 60 * 1000 });

  // SageMaker, not a local endpoint: the instance type comes with its hourly price.
  await panel.getByRole('checkbox', { name: 'Local endpoint (this machine)' }).uncheck();
  await panel.getByLabel('Instance type').selectOption('ml.m5.large');
  await expect(panel).toContainText('$0.115 per instance-hour');
  await panel.getByLabel('Endpoint name').fill('iris-endpoint');
  await shot(panel, 'light-10-aws-deploy-form');
  await panel.getByRole('button', { name: 'Deploy', exact: true }).click();

  const endpoint = panel.locator('[data-endpoint="iris-endpoint"]');
  await expect(endpoint.locator('.jp-smops-chip')).toHaveText('InService', { timeout: 60 * 1000 });
  await expect(endpoint).toContainText('SageMaker ml.m5.large × 1');
  await expect(endpoint.locator('.jp-smops-cost')).toHaveText(/^\$0\.115\/h · \$\d+\.\d\d so far$/);
  await shot(panel, 'light-11-aws-in-service');
  await page.theme.setDarkTheme();
  await shot(panel, 'dark-11-aws-in-service');

  // Clean up the SageMaker endpoint, config and model.
  await panel.getByRole('button', { name: 'Preview cleanup' }).click();
  const plan = panel.getByRole('list', { name: 'Would be deleted' });
  await expect(plan).toContainText('endpoint iris-endpoint');
  await expect(plan).toContainText('endpoint config');
  await panel.getByRole('button', { name: 'Delete everything listed' }).click();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Delete all' }).click();
  await expect(panel.getByTestId('smops-cleanup-empty')).toBeVisible({ timeout: 60 * 1000 });
  await expect(endpoint).toHaveCount(0);
});

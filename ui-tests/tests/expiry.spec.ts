import { expect, test } from '@jupyterlab/galata';

import { openPanel, pushFromFileBrowser, shot } from './helpers';

/**
 * Expiry on the real local backend: the deploy form offers the server's default (4 h), a
 * deploy asks for 30 minutes, the row counts down, Extend adds an hour, then a duration from
 * now of 15 s lets the endpoint's own process stop it and the row go. Expose on a local
 * endpoint creates nothing and offers the local runtime URL. Once per theme, with screenshots.
 */
test.use({ viewport: { width: 1280, height: 1500 } });

for (const theme of ['light', 'dark'] as const) {
  test(`local endpoint expiry: deploy, extend, expire; expose shows the runtime URL (${theme} theme)`, async ({
    page
  }) => {
    test.setTimeout(180 * 1000);
    const errors: string[] = [];
    page.on('pageerror', e => errors.push(e.message));
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    // A name of its own per run: a reused server (reuseExistingServer) still has older ones.
    const model = `iris-exp-${theme}-${Date.now().toString(36)}`;
    const name = `${model}-v1`;
    const panel = await openPanel(page);
    await pushFromFileBrowser(page, model);
    await expect(panel.locator(`[data-ref="${model}:1"]`)).toBeVisible({ timeout: 60 * 1000 });

    // The server's default (SMOPS_DEFAULT_EXPIRES_IN, 4 h), and what it means locally.
    const amount = panel.getByLabel('Expires after (amount)');
    const unit = panel.getByLabel('Expires after (unit)');
    await expect(amount).toHaveValue('4');
    await expect(unit).toHaveValue('h');
    await expect(panel.locator('.jp-smops-expiry')).toContainText('It stops by itself at about');
    await expect(panel.getByRole('checkbox', { name: 'No expiry (runs until deleted)' })).toBeVisible();
    await amount.fill('30');
    await unit.selectOption('min');
    await expect(panel.getByLabel('Endpoint name')).toHaveValue(name);
    await shot(panel.locator('section[aria-labelledby="jp-smops-deploy"]'), `${theme}-20-expiry-deploy-form`);
    await panel.getByRole('button', { name: 'Deploy', exact: true }).click();

    const row = panel.locator(`[data-endpoint="${name}"]`);
    await expect(row.locator('.jp-smops-chip')).toHaveText('InService', { timeout: 90 * 1000 });
    const left = row.getByTestId('smops-expiry');
    await expect(left).toHaveText(/^Expires in (29|30) min$/);

    // Extend: +1 h (the default choice), applied through the expiry route.
    await row.getByRole('button', { name: `Change the expiry of ${name}` }).click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog.locator('.jp-smops-extend')).toContainText(/Now: Expires in (29|30) min\./);
    await expect(dialog.getByTestId('smops-extend-preview')).toHaveText(/^Then: Expires in 1 h (29|30) min\.$/);
    await shot(dialog.locator('.jp-Dialog-content'), `${theme}-21-extend-dialog`);
    await dialog.getByRole('button', { name: `Apply the new expiry of ${name}` }).click();
    await expect(left).toHaveText(/^Expires in 1 h (29|30) min$/);
    await shot(panel, `${theme}-22-expiry-row`);

    // Expose on a local endpoint: nothing public, the local SageMaker Runtime URL instead.
    await row.getByRole('button', { name: `Expose ${name} at a public URL` }).click();
    await expect(dialog).toContainText(`${name} is a local endpoint`);
    const runtime = dialog.getByLabel('Local SageMaker Runtime URL', { exact: true });
    await expect(runtime).toHaveText(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(dialog.getByLabel('curl example', { exact: true })).toContainText(`/endpoints/${name}/invocations`);
    await expect(dialog.getByLabel('API key', { exact: true })).toHaveCount(0);
    await shot(dialog.locator('.jp-Dialog-content'), `${theme}-23-expose-local`);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect(dialog).toHaveCount(0);

    // 15 s from now: the row counts down in seconds, the endpoint's process stops itself and
    // the next listing removes it (as SageMaker's schedule deletes an expired endpoint).
    await row.getByRole('button', { name: `Change the expiry of ${name}` }).click();
    await dialog.getByRole('radio', { name: 'A duration from now' }).check();
    await dialog.getByLabel('Expires after (amount)').fill('0.25');
    await dialog.getByLabel('Expires after (unit)').selectOption('min');
    await expect(dialog.getByTestId('smops-extend-preview')).toHaveText('Then: Expires in 15 s.');
    await dialog.getByRole('button', { name: `Apply the new expiry of ${name}` }).click();
    await expect(left).toHaveText(/^Expires in 1?\d s$/);
    await expect(left).toHaveAttribute('data-state', 'soon');
    await expect(row).toHaveCount(0, { timeout: 60 * 1000 });
    expect(errors).toEqual([]);
  });
}

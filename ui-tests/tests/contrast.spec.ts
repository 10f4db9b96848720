import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

import { openPanel, shot } from './helpers';

/**
 * WCAG AA over the whole panel in light and dark: every visible text (HTML and SVG) against
 * its effective background must reach 4.5:1, with an error (a Failed endpoint's reason and a
 * failed request), a warning (version mismatch) and a success (InService, Approved, a 200
 * answer) showing. The server's answers are replaced by fixed ones (page.route), so every
 * state is on screen at once without waiting for real deploys.
 */
test.use({ viewport: { width: 1280, height: 1800 } });

const SHA = 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56abcd';

function version(v: number, approval: string): Record<string, unknown> {
  return {
    name: 'iris',
    version: v,
    sha256: SHA,
    size: 2867,
    framework: 'sklearn',
    framework_version: '1.9.1',
    serving_version: '1.9-0',
    model_file: 'model.joblib',
    created_at: '2026-11-26T19:40:00Z',
    created_by: 'galata',
    source: null,
    approval_status: approval,
    sample_input: { instances: [[5.1, 3.5, 1.4, 0.2]] },
    uri: '',
    model_package_arn: null
  };
}

function endpoint(name: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    status,
    backend: 'local',
    model: 'iris',
    version: 1,
    created_at: '2026-11-26T19:41:00Z',
    owner: 'galata',
    instance_type: 'local',
    instance_count: 2,
    max_count: null,
    serverless_memory_mb: null,
    url: 'http://127.0.0.1:40000',
    failure_reason: null,
    cost_per_hour: 0,
    cost_so_far: 0,
    image_uri: null,
    arn: null,
    ...extra
  };
}

async function fakeServer(page: IJupyterLabPageFixture): Promise<void> {
  await page.route(/\/smops\/api\/status(\?|$)/, async route => {
    const response = await route.fetch();
    const status = await response.json();
    // A different server version: the header shows its warning.
    await route.fulfill({ response, json: { ...status, version: '0.0.0-other' } });
  });
  await page.route(/\/smops\/api\/models(\?|$)/, route =>
    route.fulfill({
      json: {
        models: [
          {
            name: 'iris',
            versions: [
              version(1, 'Approved'),
              version(2, 'Rejected'),
              version(3, 'PendingManualApproval')
            ]
          }
        ]
      }
    })
  );
  await page.route(/\/smops\/api\/endpoints(\?|$)/, route =>
    route.fulfill({
      json: {
        endpoints: [
          // Expiry states: soon (warning colour), expired (error colour), hours with a cost
          // until then, and a public URL.
          endpoint('iris-v1', 'InService', { expires_at: '2030-01-01T00:10:00Z', seconds_left: 600 }),
          endpoint('iris-v2', 'Failed', {
            failure_reason: 'The model failed to load: ModuleNotFoundError: No module named xgboost.'
          }),
          // Expired: on its way out (an endpoint still Creating cannot have expired).
          endpoint('iris-v3', 'Deleting', { expires_at: '2020-01-01T00:00:00Z', seconds_left: 0 }),
          endpoint('iris-v4', 'Creating'),
          endpoint('iris-sm', 'InService', {
            backend: 'sagemaker',
            instance_type: 'ml.t2.medium',
            instance_count: 1,
            url: null,
            cost_per_hour: 0.056,
            cost_so_far: 0.12,
            expires_at: '2030-01-01T02:00:00Z',
            seconds_left: 7200,
            cost_until_expiry: 0.112,
            public_url: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/invocations'
          }),
          endpoint('iris-sm2', 'InService', {
            backend: 'sagemaker',
            instance_type: 'ml.m5.large',
            instance_count: 1,
            url: null,
            cost_per_hour: 0.115,
            cost_so_far: 0.01
          })
        ]
      }
    })
  );
  // Expose answers with a front (the key shown once), so its dialog's texts are checked too.
  await page.route(/\/smops\/api\/endpoints\/[^/]+\/public/, route =>
    route.fulfill({
      status: 201,
      json: {
        endpoint: 'iris-sm2',
        created: true,
        url: 'https://def456.execute-api.us-east-1.amazonaws.com/prod/invocations',
        api_key: 'k3yVALUEk3yVALUEk3yVALUEk3yVALUE12345678',
        api_key_id: 'kid',
        rest_api_id: 'def456',
        usage_plan_id: 'up1',
        rate_limit: 10,
        burst_limit: 20,
        quota_per_day: 10000,
        runtime_url: null,
        message: '',
        curl: "curl -X POST https://def456.execute-api.us-east-1.amazonaws.com/prod/invocations -H 'x-api-key: k3yVALUE'"
      }
    })
  );
  let calls = 0;
  await page.route(/\/smops\/api\/endpoints\/[^/]+\/invocations/, route =>
    ++calls === 1
      ? route.fulfill({ json: { predictions: [0] } })
      : route.fulfill({
          status: 424,
          json: {
            error: {
              code: 'ModelError',
              message: 'The model raised ValueError: X has 3 features, but expects 4.'
            }
          }
        })
  );
}

interface IFailure {
  text: string;
  ratio: number;
  color: string;
  background: string;
}

/** Every visible text under `root` whose contrast is below 4.5:1 (walks the DOM in the page). */
async function lowContrast(page: IJupyterLabPageFixture, root: string): Promise<{
  checked: number;
  failures: IFailure[];
}> {
  return page.evaluate(selector => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    // The canvas parses any CSS colour (rgb(), color(srgb …), color-mix results) to RGBA.
    const rgba = (css: string): number[] => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = '#000';
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const over = (top: number[], bottom: number[]): number[] => {
      const a = top[3];
      return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat(1);
    };
    const luminance = (c: number[]): number => {
      const [r, g, b] = c.slice(0, 3).map(v => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    // Transparent layers are composed up to the first opaque ancestor (or the page).
    const background = (el: Element): number[] => {
      const layers: number[][] = [];
      for (let node: Element | null = el; node; node = node.parentElement) {
        const c = rgba(getComputedStyle(node).backgroundColor);
        if (c[3] > 0) {
          layers.push(c);
          if (c[3] >= 1) {
            break;
          }
        }
      }
      let result = [255, 255, 255, 1];
      for (let i = layers.length - 1; i >= 0; i--) {
        result = over(layers[i], result);
      }
      return result;
    };
    const root = document.querySelector(selector)!;
    const failures: IFailure[] = [];
    let checked = 0;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = (node.textContent ?? '').trim();
      const el = node.parentElement;
      if (!text || !el) {
        continue;
      }
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      // Hidden text, and disabled controls (WCAG 1.4.3 exempts inactive components).
      if (
        style.visibility === 'hidden' ||
        style.display === 'none' ||
        box.width === 0 ||
        el.closest('title, option, :disabled, [aria-disabled="true"]')
      ) {
        continue;
      }
      const isSvg = el instanceof SVGElement;
      const bg = background(isSvg ? (el.closest('svg')?.parentElement ?? el) : el);
      const fg = over(rgba(isSvg ? style.fill : style.color), bg);
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      checked++;
      if (ratio < 4.5) {
        failures.push({
          text: text.slice(0, 60),
          ratio: Math.round(ratio * 100) / 100,
          color: `rgb(${fg.slice(0, 3).join(',')})`,
          background: `rgb(${bg.slice(0, 3).join(',')})`
        });
      }
    }
    return { checked, failures };
  }, root);
}

for (const theme of ['light', 'dark'] as const) {
  test(`every text in the panel reaches 4.5:1 (${theme} theme)`, async ({ page }) => {
    await fakeServer(page);
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    // Reload so the panel's first requests go through the fixed answers.
    await page.reload();
    const panel = await openPanel(page);
    await expect(panel.locator('[data-endpoint="iris-v2"]')).toBeVisible();

    // Success then failure from Test inference: a 200 answer, then an error box.
    await panel.getByRole('button', { name: 'Send request' }).click();
    await expect(panel.getByTestId('smops-response-status')).toHaveText('200');
    await panel.getByRole('button', { name: 'Send request' }).click();
    await expect(panel.locator('.jp-smops-error', { hasText: 'X has 3 features' })).toBeVisible();

    await expect(panel.locator('.jp-smops-warning')).not.toHaveCount(0); // version mismatch
    await expect(panel.locator('.jp-smops-error', { hasText: 'xgboost' })).toBeVisible();
    await expect(panel.locator('.jp-smops-approval-Approved')).toBeVisible();
    await expect(panel.locator('.jp-smops-chip-InService').first()).toBeVisible();
    await shot(panel, `${theme}-12-contrast-states`);

    await expect(panel.locator('.jp-smops-expiry-soon')).toBeVisible();
    await expect(panel.locator('.jp-smops-expiry-expired')).toBeVisible();
    await expect(panel.getByTestId('smops-public-url')).toBeVisible();
    const { checked, failures } = await lowContrast(page, '#jp-smops-panel');
    expect(checked).toBeGreaterThan(40);
    expect(failures).toEqual([]);

    // The extend and expose dialogs (JupyterLab puts them outside the panel): every extend
    // choice, the usage plan's limits and the one-time key's warning.
    const dialog = page.locator('.jp-Dialog');
    const content = '.jp-Dialog .jp-Dialog-content';
    await panel.getByRole('button', { name: 'Change the expiry of iris-sm', exact: true }).click();
    await expect(dialog.getByTestId('smops-extend-preview')).toBeVisible();
    expect((await lowContrast(page, content)).failures).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await panel.getByRole('button', { name: 'Expose iris-sm2 at a public URL' }).click();
    await expect(dialog).toContainText('This creates a public HTTPS URL for iris-sm2');
    expect((await lowContrast(page, content)).failures).toEqual([]);
    await dialog.getByRole('button', { name: 'Create the public URL of iris-sm2' }).click();
    await expect(dialog.getByRole('note')).toContainText('This key is shown only now');
    expect((await lowContrast(page, content)).failures).toEqual([]);
    await dialog.getByRole('button', { name: 'Done' }).click();
  });
}

/**
 * Browser smoke of the lab extension in one image's JupyterLab (run by studio/flows.py):
 * open /lab in Debian's chromium, wait for jupyter-smops to activate, open the panel, and fail on
 * any console error, page error, or module-federation warning about an unsatisfied shared version
 * (which is how an extension built for a newer JupyterLab shows up in an older one).
 * Uses playwright-core from ui-tests/node_modules (NODE_PATH). Prints one JSON line.
 */
const { chromium } = require('playwright-core');

const url = process.argv[2];
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
  const errors = [];
  const warnings = [];
  let activated = false;
  try {
    const page = await browser.newPage();
    page.on('console', message => {
      const text = message.text();
      if (text.includes('jupyter-smops is activated')) {
        activated = true;
      }
      if (message.type() === 'error') {
        errors.push(text);
      } else if (/unsatisfied version|shared singleton/i.test(text)) {
        warnings.push(text);
      }
    });
    page.on('pageerror', error => errors.push(`pageerror: ${error.message}`));
    const started = Date.now();
    await page.goto(url);
    // Plain JupyterLab has no window.jupyterapp (Galata adds it): the plugin's own log line says
    // it activated, and the sidebar tab it adds must appear.
    const deadline = Date.now() + 90000;
    while (!activated && Date.now() < deadline) {
      await page.waitForTimeout(250);
    }
    if (!activated) {
      throw new Error('jupyter-smops did not log its activation within 90 s');
    }
    await page.getByRole('tab', { name: 'SageMaker MLOps' }).click();
    const panel = page.locator('#jp-smops-panel');
    await panel.getByTestId('smops-backend').filter({ hasText: 'Local' }).waitFor({ timeout: 30000 });
    await panel.getByRole('heading', { name: 'Models' }).waitFor({ timeout: 30000 });
    const alerts = await panel.getByRole('alert').count();
    const version = await page.evaluate(() =>
      JSON.parse(document.getElementById('jupyter-config-data').textContent).appVersion);
    const report = { jupyterlab: version, activated, alerts, errors, warnings, seconds: (Date.now() - started) / 1000 };
    console.log(JSON.stringify(report));
    return alerts === 0 && errors.length === 0 && warnings.length === 0 ? 0 : 1;
  } finally {
    await browser.close();
  }
}

main().then(code => process.exit(code), error => {
  console.log(JSON.stringify({ failed: String(error && error.stack || error) }));
  process.exit(1);
});

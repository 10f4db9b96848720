import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

/**
 * First paint of the SageMaker MLOps panel with 1,000 registry versions and 200 endpoints
 * (seeded by seed.py), measured in the browser: from the action to the frame after the rows
 * are in the DOM (two requestAnimationFrame callbacks: the browser has painted).
 */
test.use({ autoGoto: false });

const RUNS = 7;

/** Runs `action` in the page and resolves with ms until `ready()` holds and a frame painted. */
async function timeInPage(
  page: any,
  action: string,
  ready: string
): Promise<number> {
  return page.evaluate(
    async ({ action, ready }: { action: string; ready: string }) => {
      const app = (window as any).jupyterapp;
      const isReady = new Function('document', `return (${ready});`);
      const frame = () => new Promise(r => requestAnimationFrame(() => r(null)));
      const t0 = performance.now();
      const done = new Function('app', `return (${action});`)(app);
      while (!isReady(document)) {
        await frame();
      }
      await done;
      await frame();
      await frame();
      return performance.now() - t0;
    },
    { action, ready }
  );
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], max: s[s.length - 1], runs: s.length };
};

test('panel first paint with 1,000 versions and 200 endpoints', async ({ page, request }) => {
  const rows = "document.querySelectorAll('#jp-smops-panel [data-ref]').length > 0 && " +
    "document.querySelectorAll('#jp-smops-panel [data-endpoint]').length === 25";
  const cold: number[] = [];
  const open: number[] = [];
  const refresh: number[] = [];
  const nextPage: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto();
    // Fresh page: the panel fetches at activation; open it at once and wait for its rows.
    cold.push(await timeInPage(page, "app.shell.activateById('jp-smops-panel')", rows));
    await page.sidebar.openTab('filebrowser');
    open.push(await timeInPage(page, "app.shell.activateById('jp-smops-panel')", rows));
    refresh.push(
      await timeInPage(page, "app.commands.execute('smops:refresh')", rows)
    );
    nextPage.push(
      await timeInPage(
        page,
        "document.querySelector('[aria-label=\"Next models page\"]').click()",
        "document.querySelector('[aria-label=\"models pages\"] span').textContent.startsWith('2 /')"
      )
    );
  }
  const status = await (await request.get('/smops/api/status')).json();
  const models = await (await request.get('/smops/api/models')).json();
  const endpoints = await (await request.get('/smops/api/endpoints')).json();
  const versions = models.models.reduce((n: number, m: any) => n + m.versions.length, 0);
  expect(versions).toBe(1000);
  expect(endpoints.endpoints.length).toBe(200);

  const api: Record<string, number[]> = { models: [], endpoints: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const route of ['models', 'endpoints']) {
      const t0 = Date.now();
      await request.get(`/smops/api/${route}`);
      api[route].push(Date.now() - t0);
    }
  }
  const result = {
    when: new Date().toISOString(),
    versions,
    endpoints: endpoints.endpoints.length,
    server_version: status.version,
    open_fresh_page_ms: stats(cold),
    open_loaded_ms: stats(open),
    refresh_ms: stats(refresh),
    next_page_ms: stats(nextPage),
    get_models_ms: stats(api.models),
    get_endpoints_ms: stats(api.endpoints),
    target_ms: 300
  };
  const lines = [
    '| measure (ms, browser) | median | max |',
    '|---|---|---|',
    ...(['open_fresh_page_ms', 'open_loaded_ms', 'refresh_ms', 'next_page_ms', 'get_models_ms', 'get_endpoints_ms'] as const).map(
      k => `| ${k} | ${result[k].median.toFixed(0)} | ${result[k].max.toFixed(0)} |`
    )
  ];
  console.log(lines.join('\n'));
  console.log(JSON.stringify(result));
  const out = path.join(__dirname, '..', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'panel.json'), JSON.stringify(result, null, 2));
});

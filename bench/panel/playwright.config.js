/**
 * Panel bench (not a test): run from ui-tests/ so its Playwright is used:
 *   cd ui-tests && NODE_PATH=$PWD/node_modules jlpm playwright test -c ../bench/panel/playwright.config.js
 */
const path = require('path');
const ui = path.join(__dirname, '..', '..', 'ui-tests', 'playwright.config.js');
const base = require(ui);

module.exports = {
  ...base,
  testDir: __dirname,
  testMatch: /panel\.bench\.ts/,
  projects: undefined,
  timeout: 300 * 1000,
  reporter: [['list']],
  use: { ...base.use, baseURL: 'http://localhost:8891' },
  webServer: {
    command: `jupyter lab --config ${path.join(__dirname, 'jupyter_server_bench_config.py')}`,
    url: 'http://localhost:8891/lab',
    timeout: 300 * 1000,
    reuseExistingServer: false
  }
};

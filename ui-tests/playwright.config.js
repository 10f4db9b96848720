/**
 * Galata configuration: Debian's chromium, no video (no Playwright ffmpeg here), and a
 * JupyterLab started from jupyter_server_test_config.py on port 8888.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// SIGTERM (not the default SIGKILL) so each server exits cleanly and removes its temp
// SMOPS_HOME, which stops the local endpoints' fork server it started.
const SHUTDOWN = { signal: 'SIGTERM', timeout: 10 * 1000 };

/** One JupyterLab per backend profile (see jupyter_server_test_config.py). */
function server(port, profile) {
  return {
    command: 'jlpm start',
    url: `http://localhost:${port}/lab`,
    env: { SMOPS_UI_PROFILE: profile },
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI,
    gracefulShutdown: SHUTDOWN
  };
}

module.exports = {
  ...baseConfig,
  // One worker: the tests share one server and one SMOPS_HOME, and the machine has 2 cores.
  workers: 1,
  retries: 0,
  timeout: 120 * 1000,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    ...baseConfig.use,
    video: 'off',
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  // One server per backend profile (see jupyter_server_test_config.py): the real local
  // backend, and a fault-injecting one where every deploy fails.
  projects: [
    { name: 'local', testIgnore: /(faults|aws)\.spec\.ts/ },
    {
      name: 'aws',
      testMatch: /aws\.spec\.ts/,
      use: { baseURL: 'http://localhost:8890' }
    },
    {
      name: 'faults',
      testMatch: /faults\.spec\.ts/,
      use: { baseURL: 'http://localhost:8889' }
    }
  ],
  webServer: [
    server(8888, 'local'),
    server(8889, 'faults'),
    server(8890, 'aws')
  ]
};

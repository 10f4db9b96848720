import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';

import { SmopsApiError } from '../api';
import { CleanupSection } from '../components/CleanupSection';
import { SmopsPanelView } from '../components/Panel';
import { PAGE_SIZE } from '../components/Pager';
import { SmopsModel } from '../model';
import { DEFAULT_SETTINGS } from '../settings';
import { endpoint, mockActions, mockClient, RULES, SEED, STATUS, version } from './fixtures';

async function renderPanel(client = mockClient(), settings = DEFAULT_SETTINGS) {
  const model = new SmopsModel(client);
  const actions = mockActions(model);
  await model.checkServer('0.1.0');
  await model.load();
  const onPush = jest.fn();
  const view = render(
    <SmopsPanelView model={model} actions={actions} settings={settings} onPush={onPush} />
  );
  return { model, actions, client, onPush, view };
}

afterEach(() => jest.restoreAllMocks());

describe('SmopsPanelView', () => {
  it('shows the backend and owner, and no alert when versions match', async () => {
    const { model } = await renderPanel();
    expect(screen.getByTestId('smops-backend').textContent).toBe('Local');
    expect(screen.getByText('tester')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    model.dispose();
  });

  it('says plainly when the server extension does not answer', async () => {
    const client = mockClient({
      status: jest.fn().mockRejectedValue(new SmopsApiError('NotFound', 'The jupyter_smops server extension did not answer (404).', 404))
    });
    const model = new SmopsModel(client);
    await model.checkServer('0.1.0');
    render(<SmopsPanelView model={model} actions={mockActions(model)} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />);
    expect(screen.getByRole('alert').textContent).toMatch(/server extension is not available.*did not answer/);
    expect(screen.queryByRole('heading', { name: 'Models' })).toBeNull();
    model.dispose();
  });

  it('warns when the server and frontend versions differ', async () => {
    const { model } = await renderPanel(mockClient({ status: jest.fn().mockResolvedValue({ ...STATUS, version: '0.2.0' }) }));
    expect(screen.getByRole('alert').textContent).toMatch(/panel is version 0\.1\.0 but the server extension is 0\.2\.0/);
    model.dispose();
  });

  it('shows AWS region, account, bucket and Studio profile', async () => {
    const status = {
      ...STATUS,
      backend: 'aws' as const,
      region: 'eu-west-1',
      account: '123456789012',
      bucket: 'sagemaker-eu-west-1-123456789012',
      studio: { detected: true, domain_id: 'd-abc', user_profile_name: 'alice' }
    };
    const { model } = await renderPanel(mockClient({ status: jest.fn().mockResolvedValue(status) }));
    expect(screen.getByTestId('smops-backend').textContent).toBe('AWS eu-west-1');
    expect(screen.getByText('123456789012')).toBeTruthy();
    expect(screen.getByText('sagemaker-eu-west-1-123456789012')).toBeTruthy();
    expect(screen.getByText(/d-abc \/ alice/)).toBeTruthy();
    model.dispose();
  });

  it('lists versions with size, sha and framework, and deploys the selected one locally', async () => {
    const models = [{ name: 'iris', versions: [version('iris', 1), version('iris', 2, { sha256: 'ffee00112233445566' })] }];
    const { model, actions } = await renderPanel(mockClient({ models: jest.fn().mockResolvedValue(models) }));
    const row = screen.getByRole('button', { name: 'Select iris:2 for deploy' });
    expect(row.textContent).toContain('ffee00112233');
    expect(row.textContent).toContain('sklearn 1.9.1');
    expect(row.textContent).toContain('2.8 KB');
    fireEvent.click(screen.getByRole('button', { name: 'Select iris:1 for deploy' }));
    expect((screen.getByLabelText('Endpoint name') as HTMLInputElement).value).toBe('iris-v1');
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(actions.deploy).toHaveBeenCalled());
    expect(actions.deploy.mock.calls[0][0]).toEqual({ model: 'iris', version: 1, name: 'iris-v1', local: true, expires_in: '4h' });
    model.dispose();
  });

  it('suggests a free endpoint name when the default one is taken', async () => {
    const { model } = await renderPanel(
      mockClient({ endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService')]) })
    );
    expect((screen.getByLabelText('Endpoint name') as HTMLInputElement).value).toBe('iris-v1-2');
    model.dispose();
  });

  it('refuses an invalid endpoint name before asking the server', async () => {
    const { model, actions } = await renderPanel();
    fireEvent.change(screen.getByLabelText('Endpoint name'), { target: { value: 'iris_v1' } });
    expect(screen.getByText(/letters, digits and hyphens/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Deploy' }) as HTMLButtonElement).disabled).toBe(true);
    expect(actions.deploy).not.toHaveBeenCalled();
    model.dispose();
  });

  it('offers SageMaker options with prices and a framework warning on the aws backend', async () => {
    const note = 'built-in on-demand us-east-1 prices of 2025-06-01, not verified';
    const status = {
      ...STATUS,
      backend: 'aws' as const,
      instance_types: [{ instance_type: 'ml.t2.medium', hourly_usd: 0.056 }, { instance_type: 'ml.m5.large', hourly_usd: 0.115 }],
      prices: { region: 'us-east-1', date: '2025-06-01', source: 'built in', fetched: false, note }
    };
    const models = [{ name: 'iris', versions: [version('iris', 1, { framework_version: '1.5.2', serving_version: null })] }];
    const { model, actions } = await renderPanel(
      mockClient({ status: jest.fn().mockResolvedValue(status), models: jest.fn().mockResolvedValue(models) }),
      { ...DEFAULT_SETTINGS, defaultBackend: 'aws' }
    );
    expect(screen.getByText(/\$0\.056 per instance-hour/)).toBeTruthy();
    expect(screen.getByText(note)).toBeTruthy(); // where the price comes from, next to it
    expect(screen.getByRole('alert').textContent).toMatch(/1\.5\.2 has no SageMaker scikit-learn serving image/);
    fireEvent.change(screen.getByLabelText('Instance type'), { target: { value: 'ml.m5.large' } });
    fireEvent.change(screen.getByLabelText('Instance count'), { target: { value: '2' } });
    expect(screen.getByText(/\$0\.230\/h for 2/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(actions.deploy).toHaveBeenCalled());
    expect(actions.deploy.mock.calls[0][0]).toMatchObject({ local: false, instance_type: 'ml.m5.large', count: 2, max_count: 2 });
    model.dispose();
  });

  it("requires an Approved version for SageMaker when the server's rules say so, and offers to approve it", async () => {
    const rules = { ...RULES, approval: { required: true, local_exempt: true } };
    const status = { ...STATUS, backend: 'aws' as const, require_approval: true, rules };
    const { model, actions } = await renderPanel(
      mockClient({ status: jest.fn().mockResolvedValue(status) }),
      { ...DEFAULT_SETTINGS, defaultBackend: 'aws' }
    );
    expect(screen.getByText(/requires an Approved version/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Deploy' }) as HTMLButtonElement).disabled).toBe(true);
    const deploy = screen.getByRole('region', { name: 'Deploy' });
    fireEvent.click(within(deploy).getByRole('button', { name: 'Approve iris:1' }));
    expect(actions.approve).toHaveBeenCalledWith('iris:1');
    expect(actions.deploy).not.toHaveBeenCalled();
    // A local test deploy needs no approval (the server says local deploys are exempt).
    const local = screen.getByRole('checkbox', { name: 'Local endpoint (this machine)' }) as HTMLInputElement;
    fireEvent.click(local);
    expect((screen.getByRole('button', { name: 'Deploy' }) as HTMLButtonElement).disabled).toBe(false);
    model.dispose();
  });

  it('applies approval to local deploys too when the server does not exempt them', async () => {
    const rules = { ...RULES, approval: { required: true, local_exempt: false } };
    const { model } = await renderPanel(mockClient({ status: jest.fn().mockResolvedValue({ ...STATUS, rules }) }));
    expect(screen.getByText(/requires an Approved version/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Deploy' }) as HTMLButtonElement).disabled).toBe(true);
    model.dispose();
  });

  it("validates the endpoint name with the server's pattern", async () => {
    const names = { ...RULES.names, pattern: '^[a-z-]+$', description: 'lower-case letters and hyphens' };
    const { model } = await renderPanel(
      mockClient({ status: jest.fn().mockResolvedValue({ ...STATUS, rules: { ...RULES, names } }) })
    );
    // 'iris-v1' is fine for SageMaker but not for this server's (made-up) rule.
    expect(screen.getByText('Use lower-case letters and hyphens.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Deploy' }) as HTMLButtonElement).disabled).toBe(true);
    model.dispose();
  });

  it('shows status chips, cost, failure reasons, logs, and asks to delete', async () => {
    const endpoints = [
      endpoint('iris-v1', 'InService', { instance_count: 2 }),
      endpoint('iris-aws', 'Creating', { backend: 'sagemaker', url: null, instance_type: 'ml.t2.medium', instance_count: 1, cost_per_hour: 0.056, cost_so_far: 0.01 }),
      endpoint('iris-bad', 'Failed', { failure_reason: 'did not pass the ping health check' })
    ];
    const { model, actions, client } = await renderPanel(mockClient({ endpoints: jest.fn().mockResolvedValue(endpoints) }));
    const chips = screen.getAllByLabelText(/^Status /).map(c => c.textContent);
    expect(chips).toEqual(['InService', 'Creating', 'Failed']);
    expect(screen.getByText('$0.056/h · $0.01 so far')).toBeTruthy();
    // Local: free, and its count is worker processes.
    expect(screen.getAllByText('$0 · local')).toHaveLength(2);
    expect(screen.getByText(/· 2 workers/)).toBeTruthy();
    expect(screen.getByText('did not pass the ping health check')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Show logs of iris-v1' }));
    expect(await screen.findByLabelText('Logs of iris-v1')).toBeTruthy();
    expect(client.logs).toHaveBeenCalledWith('iris-v1');
    fireEvent.click(screen.getByRole('button', { name: 'Delete iris-bad' }));
    expect(actions.deleteEndpoint).toHaveBeenCalledWith('iris-bad');
    model.dispose();
  });

  it('offers only Logs and Delete on a Failed endpoint (it cannot be tested, exposed or extended), no Test or Expose on a Deleting one', async () => {
    const endpoints = [
      endpoint('iris-ok', 'InService'),
      endpoint('iris-going', 'Deleting'),
      endpoint('iris-bad', 'Failed', { failure_reason: 'did not pass the ping health check', expires_at: '2030-01-01T00:00:00Z', seconds_left: 3600 })
    ];
    const { model } = await renderPanel(mockClient({ endpoints: jest.fn().mockResolvedValue(endpoints) }));
    const bad = document.querySelector('[data-endpoint="iris-bad"]') as HTMLElement;
    const names = within(bad).getAllByRole('button').map(b => b.getAttribute('aria-label'));
    expect(names).toEqual(['Show logs of iris-bad', 'Delete iris-bad']);
    // One being deleted cannot be tested or exposed either.
    const going = document.querySelector('[data-endpoint="iris-going"]') as HTMLElement;
    expect(within(going).queryByRole('button', { name: 'Test iris-going' })).toBeNull();
    expect(within(going).queryByRole('button', { name: /^Expose / })).toBeNull();
    expect(within(going).getByRole('button', { name: 'Show logs of iris-going' })).toBeTruthy();
    const ok = document.querySelector('[data-endpoint="iris-ok"]') as HTMLElement;
    expect(within(ok).getByRole('button', { name: 'Test iris-ok' })).toBeTruthy();
    expect(within(ok).getByRole('button', { name: 'Expose iris-ok at a public URL' })).toBeTruthy();
    model.dispose();
  });

  it('pre-fills the test editor with the sample input, sends it and charts the latency', async () => {
    const { model, client } = await renderPanel(mockClient({ endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService')]) }));
    const editor = screen.getByLabelText('Request body') as HTMLTextAreaElement;
    expect(JSON.parse(editor.value)).toEqual(SEED);
    fireEvent.click(screen.getByRole('button', { name: 'Send request' }));
    expect(await screen.findByTestId('smops-response-body')).toBeTruthy();
    expect(screen.getByTestId('smops-response-body').textContent).toBe('{"predictions": [0]}');
    expect(client.invoke).toHaveBeenCalledWith('iris-v1', JSON.stringify(SEED), 'application/json');
    expect(screen.getByRole('img').getAttribute('aria-label')).toMatch(/Latency: 1 request · median 12\.5 ms/);
    fireEvent.change(screen.getByLabelText('Request content type'), { target: { value: 'text/csv' } });
    expect(editor.value).toBe('5.1,3.5,1.4,0.2');
    model.dispose();
  });

  it('shows why models did not load, and the refresh buttons reload their section', async () => {
    const endpoints = jest.fn().mockResolvedValue([]);
    const client = mockClient({
      models: jest
        .fn()
        .mockRejectedValueOnce(new SmopsApiError('Throttling', 'Rate exceeded; try again in a minute.', 502))
        .mockResolvedValue([{ name: 'iris', versions: [version('iris', 1)] }]),
      endpoints
    });
    const { model } = await renderPanel(client);
    const models = screen.getByRole('region', { name: 'Models' });
    expect(within(models).getByRole('alert').textContent).toBe('Rate exceeded; try again in a minute.');
    fireEvent.click(within(models).getByRole('button', { name: 'Refresh models' }));
    await waitFor(() => expect(within(models).queryByRole('alert')).toBeNull());
    expect(within(models).getByRole('button', { name: 'Select iris:1 for deploy' })).toBeTruthy();
    const calls = endpoints.mock.calls.length;
    fireEvent.click(screen.getByRole('button', { name: 'Refresh endpoints' }));
    await waitFor(() => expect(endpoints).toHaveBeenCalledTimes(calls + 1));
    model.dispose();
  });

  it("refuses a body over the server's payload limit before sending it", async () => {
    const rules = { ...RULES, max_payload_bytes: 20 };
    const client = mockClient({
      status: jest.fn().mockResolvedValue({ ...STATUS, rules }),
      endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService')])
    });
    const { model } = await renderPanel(client);
    const send = screen.getByRole('button', { name: 'Send request' }) as HTMLButtonElement;
    fireEvent.change(screen.getByLabelText('Request body'), { target: { value: '1'.repeat(21) } });
    expect(screen.getByText(/The body is 21 bytes; endpoints accept at most 20\./)).toBeTruthy();
    expect(send.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Request body'), { target: { value: '1'.repeat(20) } });
    expect(send.disabled).toBe(false);
    expect(client.invoke).not.toHaveBeenCalled();
    model.dispose();
  });

  it('shows a model error with its status', async () => {
    const client = mockClient({
      endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService')]),
      invoke: jest.fn().mockRejectedValue(new SmopsApiError('ModelError', 'X has 3 features, but expects 4', 424))
    });
    const { model } = await renderPanel(client);
    fireEvent.click(screen.getByRole('button', { name: 'Send request' }));
    expect((await screen.findByRole('alert')).textContent).toBe('HTTP 424 · X has 3 features, but expects 4');
    model.dispose();
  });

  it('gives every control an accessible name and keeps it in the tab order', async () => {
    const { model, view } = await renderPanel(
      mockClient({ endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService')]) })
    );
    const controls = view.container.querySelectorAll('button, input, select, textarea');
    expect(controls.length).toBeGreaterThan(10);
    for (const control of Array.from(controls)) {
      const label =
        control.getAttribute('aria-label') ||
        control.closest('label')?.textContent?.trim() ||
        control.textContent?.trim();
      expect({ control: control.outerHTML.slice(0, 80), named: !!label }).toEqual({
        control: control.outerHTML.slice(0, 80),
        named: true
      });
      expect(control.getAttribute('tabindex')).not.toBe('-1');
    }
    model.dispose();
  });

  it('pages 1,000 versions instead of rendering them all', async () => {
    const versions = Array.from({ length: 1000 }, (_, i) => version('big', i + 1));
    const { model } = await renderPanel(mockClient({ models: jest.fn().mockResolvedValue([{ name: 'big', versions }]) }));
    const list = screen.getByRole('list', { name: 'Model versions' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(PAGE_SIZE);
    expect(screen.getByText('1 / 41')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next models page' }));
    expect(screen.getByText('2 / 41')).toBeTruthy();
    expect(within(list).getByRole('button', { name: 'Select big:976 for deploy' })).toBeTruthy();
    model.dispose();
  });
});

describe('CleanupSection', () => {
  it('lists what a dry run would delete, then says when nothing is left', async () => {
    const model = new SmopsModel(mockClient());
    const actions = mockActions(model);
    const plan = { dry_run: true, endpoints: ['iris-v1'], endpoint_configs: ['iris-v1'], models: ['iris-v1'], registry_versions: [], errors: [] };
    actions.cleanup.mockResolvedValueOnce(plan).mockResolvedValueOnce({ ...plan, endpoints: [], endpoint_configs: [], models: [] });
    render(<CleanupSection actions={actions} />);
    fireEvent.click(screen.getByRole('button', { name: 'Preview cleanup' }));
    const list = await screen.findByRole('list', { name: 'Would be deleted' });
    expect(within(list).getAllByRole('listitem').map(li => li.textContent)).toEqual([
      'endpoint iris-v1',
      'endpoint config iris-v1',
      'deployed model iris-v1'
    ]);
    expect(screen.getByRole('button', { name: 'Delete everything listed' }).textContent).toBe('Delete 3 resources');
    expect(actions.cleanup).toHaveBeenCalledWith(true);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Preview cleanup' }));
    });
    // Registry versions stay listed above it: the message must not say no models are left.
    expect((await screen.findByTestId('smops-cleanup-empty')).textContent).toMatch(/Registry versions are kept\.$/);
    model.dispose();
  });
});

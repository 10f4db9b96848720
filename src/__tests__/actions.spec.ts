import { Notification } from '@jupyterlab/apputils';
import { waitFor } from '@testing-library/react';

import { SmopsActions } from '../actions';
import { SmopsApiError } from '../api';
import { SmopsModel } from '../model';
import { Smops } from '../types';
import { endpoint, job as serverJob, mockClient, version } from './fixtures';

const job = (state: Smops.JobState, extra: Partial<Smops.IJob> = {}): Smops.IJob =>
  serverJob(state, { id: 'j1', phase: 'storing', progress: { done: 1, total: 4 }, ...extra });


function setup(overrides: Record<string, unknown> = {}) {
  const emit = jest.spyOn(Notification, 'emit').mockReturnValue('n1');
  const update = jest.spyOn(Notification, 'update').mockReturnValue(true);
  const error = jest.spyOn(Notification, 'error').mockReturnValue('n2');
  const client = mockClient(overrides);
  const model = new SmopsModel(client);
  const openPanel = jest.fn();
  return { actions: new SmopsActions(model, openPanel), model, client, emit, update, error, openPanel };
}

afterEach(() => jest.restoreAllMocks());

describe('SmopsActions', () => {
  it('shows push progress, then success with an action back to the panel', async () => {
    const { actions, model, emit, update, openPanel } = setup({
      push: jest.fn().mockResolvedValue({ job: job('running') }),
      waitForJob: jest.fn(async (_j: Smops.IJob, onProgress: (j: Smops.IJob) => void) => {
        onProgress(job('running'));
        return job('succeeded', { result: version('iris', 2) });
      }),
      models: jest.fn().mockResolvedValue([{ name: 'iris', versions: [version('iris', 1), version('iris', 2)] }])
    });
    const pushed = await actions.push({ path: 'iris.joblib', name: 'iris' });
    expect(pushed.version).toBe(2);
    expect(emit).toHaveBeenCalledWith('Pushing iris.joblib as iris…', 'in-progress', expect.anything());
    expect(update.mock.calls[0][0]).toMatchObject({ message: 'Pushing iris: storing', progress: 0.25 });
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    expect(last).toMatchObject({ type: 'success', message: 'Pushed iris:2 to the model registry.' });
    expect(model.selected).toBe('iris:2');
    last.actions![0].callback(new MouseEvent('click'));
    expect(openPanel).toHaveBeenCalled();
    model.dispose();
  });

  it('turns a failed job into an error notification with the server message and Details', async () => {
    const failure = new SmopsApiError('InvalidArtifact', 'model_fn opens iris_model.pkl but the archive has iris-model.pkl', 0, { checks: [] });
    const { actions, model, update } = setup({
      push: jest.fn().mockResolvedValue({ job: job('running') }),
      waitForJob: jest.fn().mockRejectedValue(failure)
    });
    await expect(actions.push({ path: 'iris-model.pkl', name: 'iris' })).rejects.toBe(failure);
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    expect(last.type).toBe('error');
    expect(last.message).toBe('Push of iris-model.pkl failed: model_fn opens iris_model.pkl but the archive has iris-model.pkl');
    expect(last.actions!.map(a => a.label)).toEqual(['Details', 'Open panel']);
    model.dispose();
  });

  it('reports a deploy whose endpoint ends Failed, with its reason', async () => {
    const { actions, model, update } = setup({
      deploy: jest.fn().mockResolvedValue({ job: job('running', { kind: 'deploy' }), endpoint: 'iris-v1', model: 'iris', version: 1 }),
      waitForJob: jest.fn().mockResolvedValue(job('succeeded')),
      endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'Failed', { failure_reason: 'ping health check failed' })])
    });
    await expect(actions.deploy({ model: 'iris', version: 1, name: 'iris-v1', local: true })).rejects.toMatchObject({
      code: 'DeployFailed'
    });
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    expect(last.message).toBe('Deploy of iris:1 failed: ping health check failed');
    model.dispose();
  });

  it('selects the endpoint the server named when the request named none', async () => {
    const { actions, model, update } = setup({
      deploy: jest.fn().mockResolvedValue({ job: job('running', { kind: 'deploy' }), endpoint: 'iris-v7', model: 'iris', version: 7 }),
      waitForJob: jest.fn().mockResolvedValue(job('succeeded')),
      endpoints: jest.fn().mockResolvedValue([endpoint('iris-v7', 'InService')])
    });
    await actions.deploy({ model: 'iris', local: true });
    expect(model.selectedEndpoint).toBe('iris-v7');
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    expect(last.message).toBe('Endpoint iris-v7 is InService.');
    model.dispose();
  });

  it("shows the server's approval refusal (409) as the deploy's error", async () => {
    const message =
      'iris:1 is PendingManualApproval; this deployment requires Approved versions. Approve it first.';
    const { actions, model, update } = setup({
      deploy: jest.fn().mockRejectedValue(new SmopsApiError('Conflict', message, 409))
    });
    await expect(actions.deploy({ model: 'iris', version: 1, local: false })).rejects.toMatchObject({ status: 409 });
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    expect(last.type).toBe('error');
    expect(last.message).toBe(`Deploy of iris:1 failed: ${message}`);
    model.dispose();
  });

  it('deletes nothing when the confirmation is cancelled', async () => {
    const { actions, model, client } = setup({ deleteEndpoint: jest.fn() });
    const answer = actions.deleteEndpoint('iris-v1');
    const cancel = await waitFor(() => {
      const button = document.querySelector('.jp-Dialog .jp-mod-reject');
      expect(button).not.toBeNull();
      return button as HTMLButtonElement;
    });
    expect(document.querySelector('.jp-Dialog')!.textContent).toContain('Delete iris-v1 with its endpoint configuration');
    cancel.click();
    expect(await answer).toBe(false);
    expect(client.deleteEndpoint).not.toHaveBeenCalled();
    model.dispose();
  });
});

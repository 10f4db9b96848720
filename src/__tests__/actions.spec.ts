import { Notification } from '@jupyterlab/apputils';
import { waitFor } from '@testing-library/react';

import { SmopsActions } from '../actions';
import { SmopsApiError } from '../api';
import { checkStatus, detailsNode, errorDetails, sentences, TOAST_MAX, toastText } from '../details';
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

describe('error toasts keep whole sentences', () => {
  // A real server message (core/push.py deployable): its first sentence alone is 155 characters.
  const unpinned =
    'The model was pickled with scikit-learn 1.7.2, which has no SageMaker serving image, and its version ' +
    'could not be read from the file before packaging. Pass a requirements.txt with the line ' +
    'scikit-learn==1.7.2 (--requirements) and push again.';
  const conflict =
    'iris:1 is PendingManualApproval; this deployment requires Approved versions. Approve it first in the ' +
    'panel or with %smops approve iris:1, then deploy again.';

  it('splits sentences at their ends only, not in versions, file names or "e.g."', () => {
    expect(sentences('Use scikit-learn 1.7.2 from model.tar.gz, e.g. Iris. Then push.\n- check: ok')).toEqual([
      'Use scikit-learn 1.7.2 from model.tar.gz, e.g. Iris.',
      'Then push.',
      '- check: ok'
    ]);
  });

  it('shows as many whole leading sentences as fit after the title, never a cut one', () => {
    const text = toastText('Deploy of iris:1 failed', conflict);
    expect(text).toBe(
      'Deploy of iris:1 failed: iris:1 is PendingManualApproval; this deployment requires Approved versions.'
    );
    expect(text.length).toBeLessThanOrEqual(TOAST_MAX);
    // Everything fits: all of it.
    expect(toastText('Push of a.pkl failed', 'Name taken. Pick another.')).toBe('Push of a.pkl failed: Name taken. Pick another.');
  });

  it('keeps the key sentence over the title, and cuts only a sentence longer than a toast, at a clause', () => {
    const first = 'The jupyter_smops server extension did not answer (404) because it is not installed or not enabled here.';
    expect(toastText('Validation of some/deep/folder/model.tar.gz failed', `${first} Run jupyter server extension list.`)).toBe(first);
    const text = toastText('Push of iris.joblib failed', unpinned);
    expect(text).toBe('The model was pickled with scikit-learn 1.7.2, which has no SageMaker serving image…');
    expect(text.length).toBeLessThanOrEqual(TOAST_MAX);
  });

  it('puts the full message behind Details when the toast shows only part of it', async () => {
    const failure = new SmopsApiError('Conflict', conflict, 409);
    const { actions, model, update } = setup({ deploy: jest.fn().mockRejectedValue(failure) });
    await expect(actions.deploy({ model: 'iris', version: 1, local: false })).rejects.toBe(failure);
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    // JupyterLab cuts toasts past 140 characters mid-word; this one ends on a sentence.
    expect(last.message!.length).toBeLessThanOrEqual(TOAST_MAX);
    expect(last.message).toMatch(/requires Approved versions\.$/);
    last.actions![0].callback(new MouseEvent('click'));
    const dialog = await waitFor(() => {
      const node = document.querySelector('.jp-Dialog');
      expect(node).not.toBeNull();
      return node!;
    });
    expect(dialog.textContent).toContain('Deploy of iris:1 failed');
    expect(dialog.textContent).toContain('Approve it first in the panel or with %smops approve iris:1, then deploy again.');
    expect(dialog.textContent).toContain('Conflict · HTTP 409');
    (dialog.querySelector('.jp-mod-accept') as HTMLButtonElement).click();
    model.dispose();
  });
});

describe('Details', () => {
  const checks = [
    { name: 'archive', ok: true, message: 'model.joblib at the root', severity: 'error' as const },
    { name: 'sample-predict', ok: false, message: 'no sample input given', severity: 'warning' as const },
    { name: 'model-fn', ok: false, message: 'model_fn opens iris_model.pkl', severity: 'error' as const }
  ];

  it('lists checks as ok / warning / error by their real status, with the message and hint, not JSON', () => {
    const error = new SmopsApiError('InvalidArtifact', 'iris-model.pkl is not deployable: 1 check failed.', 422, {
      checks,
      hint: 'Rename the file or fix model_fn.',
      original_status: 500
    });
    const node = detailsNode(errorDetails(error));
    const items = Array.from(node.querySelectorAll('.jp-smops-checks li'));
    expect(items.map(li => li.textContent)).toEqual([
      'ok archive model.joblib at the root',
      'warning sample-predict no sample input given',
      'error model-fn model_fn opens iris_model.pkl'
    ]);
    expect(items.map(li => li.className)).toEqual([
      'jp-smops-check jp-smops-check-ok',
      'jp-smops-check jp-smops-check-warning',
      'jp-smops-check jp-smops-check-error'
    ]);
    // A passing check never says "error", whatever its severity field holds.
    expect(checkStatus(checks[0])).toBe('ok');
    expect(node.textContent).toContain('InvalidArtifact · HTTP 422');
    expect(node.textContent).toContain('iris-model.pkl is not deployable: 1 check failed.');
    expect(node.querySelector('.jp-smops-details-hint')!.textContent).toBe('What to do: Rename the file or fix model_fn.');
    expect(node.textContent).toContain("The model's HTTP status500");
    expect(node.textContent).not.toMatch(/[{}"]|severity/);
  });

  it("validate's Details shows the package's checks the same way", async () => {
    const result = {
      path: 'out/model.tar.gz', sha256: 'ab'.repeat(32), size: 2867, model_file: 'model.joblib', framework: 'sklearn',
      framework_version: '1.7.2', serving_version: '1.4-2-py312', sample_input: null, ok: true, checks: checks.slice(0, 2)
    };
    const { actions, model, update } = setup({ package: jest.fn().mockResolvedValue(result) });
    await actions.validate('out/model.tar.gz');
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    expect(last.type).toBe('warning');
    expect(last.message).toBe('out/model.tar.gz: sample-predict: no sample input given.');
    expect(last.actions!.map(a => a.label)).toEqual(['Details']);
    last.actions![0].callback(new MouseEvent('click'));
    const dialog = await waitFor(() => {
      const node = document.querySelector('.jp-Dialog .jp-smops-error-details');
      expect(node).not.toBeNull();
      return node!;
    });
    expect(Array.from(dialog.querySelectorAll('li')).map(li => li.textContent)).toEqual([
      'ok archive model.joblib at the root',
      'warning sample-predict no sample input given'
    ]);
    expect(dialog.textContent).toContain('1.7.2 → image 1.4-2-py312');
    expect(dialog.textContent).not.toContain('severity');
    (document.querySelector('.jp-Dialog .jp-mod-accept') as HTMLButtonElement).click();
    model.dispose();
  });
});

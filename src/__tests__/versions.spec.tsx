import { Notification } from '@jupyterlab/apputils';
import { fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { identicalVersions, SmopsActions } from '../actions';
import { SmopsPanelView } from '../components/Panel';
import { SmopsModel } from '../model';
import { defaultName, PushDialogBody } from '../pushDialog';
import { DEFAULT_SETTINGS } from '../settings';
import { Smops } from '../types';
import { job, mockActions, mockClient, version } from './fixtures';

afterEach(() => jest.restoreAllMocks());

describe('versions', () => {
  it('approves and rejects from a version row', async () => {
    const models = jest.fn().mockResolvedValue([
      { name: 'iris', versions: [version('iris', 1, { approval_status: 'Approved' }), version('iris', 2)] }
    ]);
    const model = new SmopsModel(mockClient({ models }));
    const actions = mockActions(model);
    await model.checkServer('0.1.0');
    await model.load();
    render(<SmopsPanelView model={model} actions={actions} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />);
    expect(screen.queryByRole('button', { name: 'Approve iris:1' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Reject iris:1' }));
    expect(actions.reject).toHaveBeenCalledWith('iris:1');
    fireEvent.click(screen.getByRole('button', { name: 'Approve iris:2' }));
    expect(actions.approve).toHaveBeenCalledWith('iris:2');
    model.dispose();
  });

  it('says when a push is identical to an existing version', async () => {
    jest.spyOn(Notification, 'emit').mockReturnValue('n1');
    const update = jest.spyOn(Notification, 'update').mockReturnValue(true);
    const same = { sha256: 'f'.repeat(64) };
    const pushed = version('iris', 3, same);
    const client = mockClient({
      push: jest.fn().mockResolvedValue({ job: job('running') }),
      waitForJob: jest.fn().mockResolvedValue(job('succeeded', { result: pushed })),
      models: jest.fn().mockResolvedValue([
        { name: 'iris', versions: [version('iris', 1, same), version('iris', 2), pushed] }
      ])
    });
    const model = new SmopsModel(client);
    await new SmopsActions(model, jest.fn()).push({ path: 'iris.joblib', name: 'iris' });
    const last = update.mock.calls[update.mock.calls.length - 1][0];
    expect(last).toMatchObject({ type: 'warning', message: 'Pushed iris:3; it is identical to v1 (same sha256).' });
    expect(identicalVersions(model.models, version('iris', 2))).toEqual([]);
    // The list says so too, whoever pushed it.
    await model.checkServer('0.1.0');
    render(<SmopsPanelView model={model} actions={mockActions(model)} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />);
    expect(screen.getByRole('button', { name: 'Select iris:3 for deploy' }).textContent).toMatch(/identical to v1$/);
    expect(screen.getByRole('button', { name: 'Select iris:2 for deploy' }).textContent).not.toMatch(/identical/);
    model.dispose();
  });

  it('rejects through the approval route', async () => {
    jest.spyOn(Notification, 'success').mockReturnValue('n');
    const setApproval = jest.fn().mockResolvedValue(version('iris', 1, { approval_status: 'Rejected' }));
    const model = new SmopsModel(mockClient({ setApproval }));
    await new SmopsActions(model, jest.fn()).reject('iris:1');
    expect(setApproval).toHaveBeenCalledWith('iris', 1, 'Rejected' as Smops.ApprovalStatus);
    model.dispose();
  });

  it('offers existing model names in the push dialog and reuses a matching one', () => {
    expect(defaultName('work/Iris.joblib', ['iris', 'wine'])).toBe('iris');
    expect(defaultName('work/churn.pkl', ['iris'])).toBe('churn');
    const body = new PushDialogBody('iris.joblib', [], [], ['iris', 'wine']);
    const input = body.node.querySelector('input[aria-label="Registry name"]') as HTMLInputElement;
    const list = body.node.querySelector(`datalist#${input.getAttribute('list')}`)!;
    expect(Array.from(list.querySelectorAll('option')).map(o => o.value)).toEqual(['iris', 'wine']);
    expect(body.getValue().name).toBe('iris');
    body.dispose();
  });
});

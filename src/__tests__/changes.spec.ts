import { Notification } from '@jupyterlab/apputils';

import { SmopsActions } from '../actions';
import { SmopsApiError } from '../api';
import { SmopsModel } from '../model';
import { endpoint, mockClient, version } from './fixtures';

afterEach(() => jest.restoreAllMocks());

describe('change stamp', () => {
  it('reloads models and endpoints only when the stamp moves', async () => {
    const changes = jest
      .fn()
      .mockResolvedValueOnce({ stamp: 'a', covers: ['local_endpoints', 'registry'] })
      .mockResolvedValueOnce({ stamp: 'a', covers: ['local_endpoints', 'registry'] })
      .mockResolvedValue({ stamp: 'b', covers: ['local_endpoints', 'registry'] });
    const models = jest
      .fn()
      .mockResolvedValueOnce([])
      .mockResolvedValue([{ name: 'iris', versions: [version('iris', 1)] }]);
    const endpoints = jest
      .fn()
      .mockResolvedValueOnce([])
      .mockResolvedValue([endpoint('iris-v1', 'InService')]);
    const model = new SmopsModel(mockClient({ changes, models, endpoints }));
    await model.refreshModels();
    await model.refreshEndpoints();
    await model.checkChanges(); // first stamp: nothing to compare with
    await model.checkChanges(); // same stamp
    expect(models).toHaveBeenCalledTimes(1);
    expect(endpoints).toHaveBeenCalledTimes(1);
    await model.checkChanges(); // a push and deploy from a notebook
    expect(models).toHaveBeenCalledTimes(2);
    expect(endpoints).toHaveBeenCalledTimes(2);
    expect(model.models[0].name).toBe('iris');
    expect(model.endpoints[0].name).toBe('iris-v1');
    model.dispose();
  });

  it('compares the first check with the stamp of the loaded lists (a change while the panel was hidden)', async () => {
    const changes = jest
      .fn()
      .mockResolvedValueOnce({ stamp: 'a', covers: ['local_endpoints', 'registry'] })
      .mockResolvedValue({ stamp: 'b', covers: ['local_endpoints', 'registry'] });
    const models = jest
      .fn()
      .mockResolvedValueOnce([{ name: 'iris', versions: [version('iris', 1)] }])
      .mockResolvedValue([]);
    const model = new SmopsModel(mockClient({ changes, models }));
    await model.load(); // stamp a, one model
    // Hidden: no check until the panel is shown, after a cleanup from a notebook.
    await model.checkChanges();
    expect(models).toHaveBeenCalledTimes(2);
    expect(model.models).toEqual([]);
    model.dispose();
  });

  it('reloads models the stamp does not cover (S3) on its own, at most every 30 s', async () => {
    const changes = jest.fn().mockResolvedValue({ stamp: 'a', covers: ['local_endpoints'] });
    const models = jest.fn().mockResolvedValue([]);
    const model = new SmopsModel(mockClient({ changes, models }));
    await model.checkChanges(); // never loaded: loads
    await model.checkChanges(); // just loaded: not again
    expect(models).toHaveBeenCalledTimes(1);
    model.dispose();
  });

  it('a delete of an endpoint already gone succeeds quietly and refreshes', async () => {
    jest.spyOn(Notification, 'emit').mockReturnValue('n1');
    jest.spyOn(Notification, 'update').mockReturnValue(true);
    const dismiss = jest.spyOn(Notification, 'dismiss').mockReturnValue();
    const error = jest.spyOn(Notification, 'error').mockReturnValue('n2');
    const gone = new SmopsApiError('NotFound', 'No endpoint named iris-v1. List them with %smops endpoints', 404);
    const endpoints = jest.fn().mockResolvedValue([]);
    const client = mockClient({ deleteEndpoint: jest.fn().mockRejectedValue(gone), endpoints });
    const model = new SmopsModel(client);
    const actions = new SmopsActions(model, jest.fn());
    await expect(actions.deleteEndpoint('iris-v1', false)).resolves.toBe(true);
    expect(dismiss).toHaveBeenCalledWith('n1');
    expect(error).not.toHaveBeenCalled();
    expect(endpoints).toHaveBeenCalled();
    const updates = (Notification.update as jest.Mock).mock.calls.map(c => c[0].message);
    expect(updates.join(' ')).not.toMatch(/%smops/);
    model.dispose();
  });
});

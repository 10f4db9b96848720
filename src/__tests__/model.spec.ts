import { SmopsApiError } from '../api';
import { SmopsModel } from '../model';
import { endpoint, mockClient, version } from './fixtures';

describe('SmopsModel', () => {
  it('polls fast while an endpoint is Creating and slowly once all are settled', async () => {
    const endpoints = jest
      .fn()
      .mockResolvedValueOnce([endpoint('iris-v1', 'Creating')])
      .mockResolvedValue([endpoint('iris-v1', 'InService')]);
    const model = new SmopsModel(mockClient({ endpoints }));
    await model.refreshEndpoints();
    expect(model.poll.frequency.interval).toBe(2000);
    expect(model.poll.frequency.backoff).toBe(true);
    await model.refreshEndpoints();
    expect(model.poll.frequency.interval).toBe(15000);
    expect(model.selectedEndpoint).toBe('iris-v1');
    model.dispose();
  });

  it('re-throws errors to the poll (so it backs off) but keeps them for the panel', async () => {
    const error = new SmopsApiError('UpstreamError', 'Rate exceeded', 502);
    const model = new SmopsModel(mockClient({ endpoints: jest.fn().mockRejectedValue(error) }));
    await expect(model.refreshEndpoints(true)).rejects.toBe(error);
    await model.refreshEndpoints();
    expect(model.endpointsError?.message).toBe('Rate exceeded');
    model.dispose();
  });

  it('stands by while the panel is hidden and refreshes when it is shown again', async () => {
    const client = mockClient();
    const model = new SmopsModel(client);
    await model.load();
    model.setVisible(false);
    const calls = (client.endpoints as jest.Mock).mock.calls.length;
    void model.poll.refresh();
    await model.poll.tick;
    await new Promise(r => setTimeout(r, 20));
    expect(model.poll.state.phase).toBe('standby');
    expect((client.endpoints as jest.Mock).mock.calls.length).toBe(calls);
    model.setVisible(true);
    await model.poll.tick;
    await new Promise(r => setTimeout(r, 20));
    expect((client.endpoints as jest.Mock).mock.calls.length).toBeGreaterThan(calls);
    model.dispose();
  });

  it('selects the newest version of the first model, and keeps a valid selection', async () => {
    const models = jest.fn().mockResolvedValue([{ name: 'iris', versions: [version('iris', 1), version('iris', 2)] }]);
    const model = new SmopsModel(mockClient({ models }));
    await model.refreshModels();
    expect(model.selected).toBe('iris:2');
    model.select('iris:1');
    await model.refreshModels();
    expect(model.selected).toBe('iris:1');
    expect(model.findVersion('iris:1')?.version).toBe(1);
    model.dispose();
  });
});

import { SmopsApiError } from '../api';
import { EndpointLogsView } from '../logsWidget';
import { mockClient } from './fixtures';

describe('EndpointLogsView', () => {
  it('shows the newest lines, follows new ones, and stops when the endpoint is gone', async () => {
    const logs = jest
      .fn()
      .mockResolvedValueOnce('started')
      .mockResolvedValueOnce('started\nlistening')
      .mockRejectedValue(new SmopsApiError('NotFound', 'No endpoint named iris-v1.', 404));
    const view = new EndpointLogsView(mockClient({ logs }), 'iris-v1');
    await view.poll.stop();
    const pre = view.node.querySelector('pre')!;
    await view.refresh();
    expect(pre.textContent).toBe('started');
    await view.refresh();
    expect(pre.textContent).toBe('started\nlistening');
    expect(logs).toHaveBeenCalledWith('iris-v1', 1000);
    await view.refresh();
    expect(pre.textContent).toBe('started\nlistening'); // the last lines stay readable
    expect(view.node.textContent).toMatch(/iris-v1 no longer exists/);
    expect(view.poll.isDisposed).toBe(true);
    view.dispose();
  });
});

import { SmopsApiError } from '../api';
import { EndpointLogsView } from '../logsWidget';
import { mockClient } from './fixtures';

function page(logs: string, next_since: string, truncated = false) {
  return { endpoint: 'iris-v1', tail: 1000, logs, next_since, truncated };
}

describe('EndpointLogsView', () => {
  it('reads the tail, then only what is new by passing next_since back, and stops when the endpoint is gone', async () => {
    const logsPage = jest
      .fn()
      .mockResolvedValueOnce(page('a\nb', 'T1~1'))
      .mockResolvedValueOnce(page('', 'T1~1'))
      .mockResolvedValueOnce(page('c', 'T2~1'))
      .mockRejectedValue(new SmopsApiError('NotFound', 'No endpoint named iris-v1.', 404));
    const view = new EndpointLogsView(mockClient({ logsPage }), 'iris-v1');
    await view.poll.stop();
    const pre = view.node.querySelector('pre')!;
    await view.refresh();
    expect(logsPage).toHaveBeenLastCalledWith('iris-v1', { tail: 1000, since: null });
    expect(pre.textContent).toBe('a\nb');
    await view.refresh(); // nothing new: nothing changes
    expect(logsPage).toHaveBeenLastCalledWith('iris-v1', { tail: 1000, since: 'T1~1' });
    expect(pre.textContent).toBe('a\nb');
    await view.refresh();
    expect(logsPage).toHaveBeenLastCalledWith('iris-v1', { tail: 1000, since: 'T1~1' });
    expect(pre.textContent).toBe('a\nb\nc'); // appended, not re-read
    expect(view.lines).toEqual(['a', 'b', 'c']);
    await view.refresh();
    expect(logsPage).toHaveBeenLastCalledWith('iris-v1', { tail: 1000, since: 'T2~1' });
    expect(pre.textContent).toBe('a\nb\nc'); // the last lines stay readable
    expect(view.node.textContent).toMatch(/iris-v1 no longer exists/);
    expect(view.poll.isDisposed).toBe(true);
    view.dispose();
  });

  it('keeps a bounded number of lines and says when a read left new lines out', async () => {
    const logsPage = jest
      .fn()
      .mockResolvedValueOnce(page('1\n2\n3', 'A~1'))
      .mockResolvedValueOnce(page('4\n5', 'B~1'))
      .mockResolvedValueOnce(page('9', 'C~1', true));
    const view = new EndpointLogsView(mockClient({ logsPage }), 'iris-v1', { maxLines: 4 });
    await view.poll.stop();
    await view.refresh();
    await view.refresh();
    expect(view.lines).toEqual(['2', '3', '4', '5']);
    expect(view.node.querySelector('pre')!.textContent).toBe('2\n3\n4\n5');
    await view.refresh();
    expect(view.lines[view.lines.length - 1]).toBe('9');
    expect(view.lines[view.lines.length - 2]).toMatch(/older of them are not shown/);
    expect(view.node.textContent).toMatch(/4 lines shown/);
    view.dispose();
  });

  it('shows a placeholder for an empty log and translates its texts', async () => {
    const logsPage = jest.fn().mockResolvedValue(page('', '1970-01-01T00:00:00.000Z~0'));
    const trans = {
      __: (text: string, ...args: unknown[]) =>
        `«${args.reduce<string>((t, a, i) => t.replace(`%${i + 1}`, String(a)), text)}»`,
      _n: (one: string, many: string, n: number, ...args: unknown[]) =>
        `«${[n, ...args].reduce<string>((t, a, i) => t.replace(`%${i + 1}`, String(a)), n === 1 ? one : many)}»`
    };
    const view = new EndpointLogsView(mockClient({ logsPage }), 'iris-v1', {
      trans: trans as never
    });
    await view.poll.stop();
    await view.refresh();
    expect(view.node.querySelector('pre')!.textContent).toBe('«(no log lines yet)»');
    expect(view.node.querySelector('pre')!.getAttribute('aria-label')).toBe('«Logs of iris-v1»');
    expect(view.node.querySelector('.jp-smops-logs-status')!.textContent).toMatch(/^«Following new lines · 0 lines shown/);
    view.dispose();
  });
});

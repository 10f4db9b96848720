import { Clipboard, Dialog, Notification } from '@jupyterlab/apputils';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';

import { CommandRegistry } from '@lumino/commands';

import { SmopsActions } from '../actions';
import { addCommands, CommandIDs } from '../commands';
import { exposeEndpoint, extendEndpoint, ExtendForm } from '../components/EndpointDialogs';
import { SmopsPanelView } from '../components/Panel';
import {
  clockText,
  costUntilExpiry,
  deployExpiry,
  durationText,
  expiryPolicy,
  formatDuration,
  initialChoice,
  leftAfter,
  lifetimeProblem,
  secondsLeft,
  splitSeconds,
  tickMs,
  timeLeftText
} from '../expiry';
import { SmopsModel } from '../model';
import { SmopsPanel } from '../widget';
import { DEFAULT_SETTINGS } from '../settings';
import { nullTrans as trans } from '../trans';
import { Smops } from '../types';
import { endpoint, mockActions, mockClient, RULES, STATUS } from './fixtures';

const HOUR = 3600;
const capped = { default_seconds: 4 * HOUR, max_seconds: 24 * HOUR, no_expiry_allowed: false };
const RULES_CAPPED: Smops.IRules = { ...RULES, expiry: capped };
const AWS_STATUS: Smops.IStatus = {
  ...STATUS,
  backend: 'aws',
  region: 'us-east-1',
  instance_types: [{ instance_type: 'ml.m5.large', hourly_usd: 0.115 }],
  rules: RULES_CAPPED
};

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
  Dialog.flush();
});

describe('time left', () => {
  it.each([
    [0, '0 s'],
    [45, '45 s'],
    [12 * 60 + 30, '12 min'],
    [3 * HOUR, '3 h'],
    [3 * HOUR + 12 * 60 + 59, '3 h 12 min'],
    [2 * 86400, '2 d'],
    [2 * 86400 + 4 * HOUR + 59, '2 d 4 h']
  ])('formats %d s as "%s", as the CLI does', (seconds, text) => {
    expect(formatDuration(seconds, trans)).toBe(text);
  });

  it('says expires in, expired or no expiry', () => {
    expect(timeLeftText(3 * HOUR + 12 * 60, trans)).toBe('Expires in 3 h 12 min');
    expect(timeLeftText(0.4, trans)).toBe('Expired');
    expect(timeLeftText(null, trans)).toBe('No expiry');
  });

  it("counts down from the server's seconds_left, whatever the browser's clock says", () => {
    // The browser's clock is a day off: expires_at would say something else.
    const e = endpoint('a', 'InService', { expires_at: '2000-01-01T00:00:00Z', seconds_left: 600 });
    const seenAt = 5_000_000;
    expect(secondsLeft(e, seenAt, seenAt)).toBe(600);
    expect(secondsLeft(e, seenAt, seenAt + 90_000)).toBe(510);
    expect(secondsLeft(e, seenAt, seenAt + 700_000)).toBe(0);
    // Without a count, from expires_at; without either, no expiry.
    const at = endpoint('b', 'InService', { expires_at: new Date(seenAt + 60_000).toISOString() });
    expect(secondsLeft(at, 0, seenAt)).toBe(60);
    expect(secondsLeft(endpoint('c', 'InService'), 0, seenAt)).toBeNull();
  });

  it('says when in hours and minutes today, with the date on another day', () => {
    const now = new Date(2026, 10, 30, 6, 0).getTime();
    expect(clockText(new Date(2026, 10, 30, 16, 5).getTime(), now)).toBe('16:05');
    expect(clockText(new Date(2026, 11, 1, 9, 30).getTime(), now)).toBe('2026-12-01 09:30');
  });

  it('costs the time left on SageMaker only', () => {
    const sm = endpoint('s', 'InService', { backend: 'sagemaker', cost_per_hour: 0.115, seconds_left: 7200, cost_until_expiry: 0.23 });
    expect(costUntilExpiry(sm, 7200)).toBeCloseTo(0.23);
    expect(costUntilExpiry(sm, 3600)).toBeCloseTo(0.115);
    expect(costUntilExpiry(sm, null)).toBeNull();
    // Serverless: no hourly price, the server's figure scaled to what is left.
    const serverless = { ...sm, cost_per_hour: null, cost_until_expiry: 0.5 };
    expect(costUntilExpiry(serverless, 3600)).toBeCloseTo(0.25);
    expect(costUntilExpiry(endpoint('l', 'InService', { seconds_left: 60 }), 60)).toBeNull();
  });

  it('redraws every second near the end, every 10 s otherwise, never without a live expiry', () => {
    expect(tickMs([null, 5000])).toBe(10000);
    expect(tickMs([5000, 90])).toBe(1000);
    expect(tickMs([null, 0])).toBeNull();
  });
});

describe('the cap', () => {
  it('applies to SageMaker and not to local endpoints', () => {
    expect(expiryPolicy(RULES_CAPPED, false)).toEqual({ defaultSeconds: 4 * HOUR, maxSeconds: 24 * HOUR, noExpiryAllowed: false });
    expect(expiryPolicy(RULES_CAPPED, true)).toEqual({ defaultSeconds: 4 * HOUR, maxSeconds: null, noExpiryAllowed: true });
    expect(expiryPolicy({ ...RULES, expiry: undefined } as unknown as Smops.IRules, false)).toBeNull();
  });

  it('refuses more than the cap and no expiry under it, saying what to do', () => {
    const sm = expiryPolicy(RULES_CAPPED, false)!;
    expect(lifetimeProblem(24 * HOUR, sm, trans)).toBeNull();
    expect(lifetimeProblem(2 * 86400, sm, trans)).toBe(
      '2 d is longer than the 1 d your administrator allows on SageMaker (max_expires_in). Ask for 1 d or less; you can extend it later.'
    );
    expect(lifetimeProblem(null, sm, trans)).toMatch(/must expire here: your administrator allows at most 1 d/);
    expect(lifetimeProblem(0, sm, trans)).toMatch(/longer than zero/);
    expect(lifetimeProblem(NaN, sm, trans)).toMatch(/longer than zero/);
    const local = expiryPolicy(RULES_CAPPED, true)!;
    expect(lifetimeProblem(7 * 86400, local, trans)).toBeNull();
    expect(lifetimeProblem(null, local, trans)).toBeNull();
  });

  it('starts from the default, else no expiry where allowed, else the cap', () => {
    expect(initialChoice({ defaultSeconds: 4 * HOUR, maxSeconds: null, noExpiryAllowed: true })).toEqual({ amount: 4, unit: 'h', never: false });
    expect(initialChoice({ defaultSeconds: null, maxSeconds: null, noExpiryAllowed: true }).never).toBe(true);
    expect(initialChoice({ defaultSeconds: null, maxSeconds: 86400, noExpiryAllowed: false })).toEqual({ amount: 1, unit: 'd', never: false });
    expect(splitSeconds(5400)).toEqual({ amount: 90, unit: 'min' });
    expect(splitSeconds(90)).toEqual({ amount: 1.5, unit: 'min' });
  });

  it('sends durations the server reads', () => {
    expect(durationText(4 * HOUR)).toBe('4h');
    expect(durationText(5400)).toBe('90m');
    expect(durationText(86400)).toBe('1d');
    expect(durationText(90)).toBe('90s');
    expect(deployExpiry({ amount: 30, unit: 'min', never: false })).toEqual({ expires_in: '30m' });
    expect(deployExpiry({ amount: 2, unit: 'h', never: true })).toEqual({ no_expiry: true });
    expect(leftAfter({ kind: 'by', seconds: HOUR }, 600)).toBe(4200);
    expect(leftAfter({ kind: 'by', seconds: HOUR }, null)).toBe(HOUR);
    expect(leftAfter({ kind: 'from-now', seconds: 60 }, 600)).toBe(60);
    expect(leftAfter({ kind: 'never' }, 600)).toBeNull();
  });
});

async function renderPanel(client = mockClient()) {
  const model = new SmopsModel(client);
  const actions = {
    ...mockActions(model),
    trans,
    extend: jest.fn().mockResolvedValue(undefined),
    expose: jest.fn(),
    unexpose: jest.fn().mockResolvedValue(true)
  } as unknown as SmopsActions & Record<'deploy' | 'extend' | 'expose' | 'unexpose', jest.Mock>;
  await model.checkServer('0.1.0');
  await model.load();
  render(<SmopsPanelView model={model} actions={actions} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />);
  return { model, actions };
}

describe('deploy form expiry', () => {
  it("offers the server's default and sends it with a local deploy", async () => {
    const status = { ...STATUS, rules: { ...RULES, expiry: { default_seconds: 4 * HOUR, max_seconds: null, no_expiry_allowed: true } } };
    const { model, actions } = await renderPanel(mockClient({ status: jest.fn().mockResolvedValue(status) }));
    expect((screen.getByLabelText('Expires after (amount)') as HTMLInputElement).value).toBe('4');
    expect((screen.getByLabelText('Expires after (unit)') as HTMLSelectElement).value).toBe('h');
    expect(screen.getByText(/It stops by itself at about/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Expires after (amount)'), { target: { value: '30' } });
    fireEvent.change(screen.getByLabelText('Expires after (unit)'), { target: { value: 'min' } });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(actions.deploy).toHaveBeenCalled());
    expect(actions.deploy.mock.calls[0][0]).toMatchObject({ local: true, expires_in: '30m' });
    expect(actions.deploy.mock.calls[0][0].no_expiry).toBeUndefined();
    // No expiry is allowed here.
    fireEvent.click(screen.getByRole('checkbox', { name: 'No expiry (runs until deleted)' }));
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(actions.deploy).toHaveBeenCalledTimes(2));
    expect(actions.deploy.mock.calls[1][0]).toMatchObject({ no_expiry: true });
    expect(actions.deploy.mock.calls[1][0].expires_in).toBeUndefined();
    model.dispose();
  });

  it('on SageMaker shows the cap and the cost until expiry, and refuses more than the cap', async () => {
    const { model, actions } = await renderPanel(mockClient({ status: jest.fn().mockResolvedValue(AWS_STATUS) }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Local endpoint (this machine)' }));
    fireEvent.change(screen.getByLabelText('Instance type'), { target: { value: 'ml.m5.large' } });
    expect(screen.getByText('Your administrator allows at most 1 d on SageMaker.')).toBeTruthy();
    // 4 h of one ml.m5.large: $0.46.
    expect(screen.getByText(/AWS deletes it at about .*: about \$0\.46 until then\./)).toBeTruthy();
    // "No expiry" is refused under a cap: not offered.
    expect(screen.queryByRole('checkbox', { name: 'No expiry (runs until deleted)' })).toBeNull();
    fireEvent.change(screen.getByLabelText('Expires after (amount)'), { target: { value: '2' } });
    fireEvent.change(screen.getByLabelText('Expires after (unit)'), { target: { value: 'd' } });
    expect(screen.getByRole('alert').textContent).toBe(
      '2 d is longer than the 1 d your administrator allows on SageMaker (max_expires_in). Ask for 1 d or less; you can extend it later.'
    );
    expect((screen.getByRole('button', { name: 'Deploy' }) as HTMLButtonElement).disabled).toBe(true);
    // A local endpoint is exempt: the same 2 d is fine there, and so is no expiry...
    const localBox = screen.getByRole('checkbox', { name: 'Local endpoint (this machine)' });
    fireEvent.click(localBox);
    expect(screen.queryByRole('alert')).toBeNull();
    fireEvent.click(screen.getByRole('checkbox', { name: 'No expiry (runs until deleted)' }));
    // ...which SageMaker refuses here: the box stays on screen to untick, with the reason.
    fireEvent.click(localBox);
    expect(screen.getByRole('alert').textContent).toMatch(/^Endpoints on SageMaker must expire here: your administrator allows at most 1 d/);
    expect((screen.getByRole('button', { name: 'Deploy' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('checkbox', { name: 'No expiry (runs until deleted)' }));
    expect(screen.queryByRole('checkbox', { name: 'No expiry (runs until deleted)' })).toBeNull();
    fireEvent.change(screen.getByLabelText('Expires after (amount)'), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(actions.deploy).toHaveBeenCalled());
    expect(actions.deploy.mock.calls[0][0]).toMatchObject({ local: false, instance_type: 'ml.m5.large', expires_in: '1d' });
    model.dispose();
  });
});

describe('endpoint rows', () => {
  it('count down, then say expired; SageMaker rows show the cost until then and the public URL', async () => {
    jest.useFakeTimers({ now: new Date('2026-11-30T06:00:00Z') });
    const endpoints = [
      endpoint('iris-v1', 'InService', { expires_at: '2026-11-30T06:02:00Z', seconds_left: 125 }),
      endpoint('iris-sm', 'InService', {
        backend: 'sagemaker', url: null, instance_type: 'ml.m5.large', instance_count: 1, cost_per_hour: 0.115, cost_so_far: 0.01,
        expires_at: '2026-11-30T09:12:00Z', seconds_left: 3 * HOUR + 12 * 60, cost_until_expiry: 0.368,
        public_url: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/invocations'
      }),
      endpoint('iris-keep', 'InService')
    ];
    const { model, actions } = await renderPanel(mockClient({ endpoints: jest.fn().mockResolvedValue(endpoints), status: jest.fn().mockResolvedValue(AWS_STATUS) }));
    const row = (name: string) => within(document.querySelector(`[data-endpoint="${name}"]`) as HTMLElement);
    expect(row('iris-v1').getByTestId('smops-expiry').textContent).toBe('Expires in 2 min');
    expect(row('iris-sm').getByTestId('smops-expiry').textContent).toBe('Expires in 3 h 12 min · $0.37 until then');
    expect(row('iris-keep').getByTestId('smops-expiry').textContent).toBe('No expiry');
    expect(row('iris-sm').getByTestId('smops-public-url').textContent).toContain('https://abc123.execute-api');
    // Two minutes pass: the local one has expired, and says so in the error colour.
    act(() => {
      jest.advanceTimersByTime(10_000);
    });
    expect(row('iris-v1').getByTestId('smops-expiry').textContent).toBe('Expires in 1 min');
    expect(row('iris-v1').getByTestId('smops-expiry').dataset.state).toBe('soon');
    act(() => {
      jest.advanceTimersByTime(120_000);
    });
    expect(row('iris-v1').getByTestId('smops-expiry').textContent).toBe('Expired');
    expect(row('iris-v1').getByTestId('smops-expiry').dataset.state).toBe('expired');
    expect(row('iris-sm').getByTestId('smops-expiry').textContent).toBe('Expires in 3 h 9 min · $0.36 until then');

    // Copy the public URL; unexpose goes through the action (which confirms).
    const copy = jest.spyOn(Clipboard, 'copyToSystem').mockImplementation(() => undefined);
    fireEvent.click(row('iris-sm').getByRole('button', { name: 'Copy the public URL of iris-sm' }));
    expect(copy).toHaveBeenCalledWith('https://abc123.execute-api.us-east-1.amazonaws.com/prod/invocations');
    expect(row('iris-sm').getByRole('button', { name: 'Copy the public URL of iris-sm' }).textContent).toBe('Copied');
    fireEvent.click(row('iris-sm').getByRole('button', { name: 'Remove the public URL of iris-sm' }));
    expect(actions.unexpose).toHaveBeenCalledWith('iris-sm');
    // Not exposed: Expose instead.
    expect(row('iris-keep').getByRole('button', { name: 'Expose iris-keep at a public URL' })).toBeTruthy();
    model.dispose();
  });
});

function dialog(): HTMLElement {
  return document.querySelector('.jp-Dialog') as HTMLElement;
}

/** Waits until the open dialog's React body has rendered (`selector` inside it). */
async function rendered(selector: string): Promise<void> {
  await waitFor(() => expect(dialog()?.querySelector(selector)).toBeTruthy());
}

function actionsFor(status: Smops.IStatus, client: Record<string, unknown> = {}) {
  jest.spyOn(Notification, 'emit').mockReturnValue('n1');
  jest.spyOn(Notification, 'update').mockReturnValue(true);
  jest.spyOn(Notification, 'success').mockReturnValue('n2');
  jest.spyOn(Notification, 'error').mockReturnValue('n3');
  const model = new SmopsModel(mockClient({ status: jest.fn().mockResolvedValue(status), ...client }));
  return { model, actions: new SmopsActions(model, jest.fn()) };
}

describe('extend dialog', () => {
  // jsdom does not reflect Element.ariaLabel, so the Dialog's buttons go by their visible labels here.
  it('adds an hour by default and calls the expiry route', async () => {
    const extended = endpoint('iris-v1', 'InService', { expires_at: '2030-06-15T10:00:00Z', seconds_left: 3 * HOUR });
    const extendEndpointCall = jest.fn().mockResolvedValue(extended);
    const { model, actions } = actionsFor(STATUS, { extendEndpoint: extendEndpointCall });
    await model.checkServer('0.1.0');
    const done = extendEndpoint(actions, endpoint('iris-v1', 'InService', { seconds_left: 2 * HOUR }), 2 * HOUR);
    await rendered('.jp-smops-extend');
    expect(dialog().textContent).toContain('Now: Expires in 2 h.');
    expect(within(dialog()).getByTestId('smops-extend-preview').textContent).toBe('Then: Expires in 3 h.');
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Apply', hidden: true }));
    expect(await done).toBe(true);
    expect(extendEndpointCall).toHaveBeenCalledWith('iris-v1', { by: '1h' });
    expect(Notification.success).toHaveBeenCalledWith(expect.stringMatching(/^iris-v1 now expires at 2030-06-1[45] \d\d:\d\d\.$/), expect.anything());
    model.dispose();
  });

  it('sends a duration from now, or no expiry where allowed', async () => {
    const extendEndpointCall = jest.fn().mockResolvedValue(endpoint('iris-v1', 'InService'));
    const { model, actions } = actionsFor(STATUS, { extendEndpoint: extendEndpointCall });
    await model.checkServer('0.1.0');
    let done = extendEndpoint(actions, endpoint('iris-v1', 'InService'), null);
    await rendered('.jp-smops-extend');
    fireEvent.click(within(dialog()).getByRole('radio', { name: 'A duration from now', hidden: true }));
    fireEvent.change(within(dialog()).getByLabelText('Expires after (amount)'), { target: { value: '45' } });
    fireEvent.change(within(dialog()).getByLabelText('Expires after (unit)'), { target: { value: 'min' } });
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Apply', hidden: true }));
    await done;
    expect(extendEndpointCall).toHaveBeenLastCalledWith('iris-v1', { expires_in: '45m' });

    done = extendEndpoint(actions, endpoint('iris-v1', 'InService'), 600);
    await rendered('.jp-smops-extend');
    fireEvent.click(within(dialog()).getByRole('radio', { name: 'No expiry (runs until deleted)', hidden: true }));
    expect(within(dialog()).getByTestId('smops-extend-preview').textContent).toBe('Then: it runs until you delete it.');
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Apply', hidden: true }));
    await done;
    expect(extendEndpointCall).toHaveBeenLastCalledWith('iris-v1', { no_expiry: true });
    model.dispose();
  });

  it('under a cap offers no "No expiry", disables what goes past it and blocks Apply', () => {
    const policy = expiryPolicy(RULES_CAPPED, false)!;
    const onChange = jest.fn();
    const sm = endpoint('iris-sm', 'InService', { backend: 'sagemaker', cost_per_hour: 0.115 });
    // 21 h left of a 1 d cap: +1 h fits, +4 h does not.
    render(<ExtendForm endpoint={sm} policy={policy} left={21 * HOUR} onChange={onChange} />);
    expect(screen.queryByRole('radio', { name: /No expiry/ })).toBeNull();
    expect((screen.getByRole('radio', { name: /^1 h later/ }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole('radio', { name: /^4 h later/ }) as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByText('(more than your administrator allows)')).toBeTruthy();
    expect(screen.getByTestId('smops-extend-preview').textContent).toBe('Then: Expires in 22 h · about $2.53 until then.');
    expect(onChange).toHaveBeenLastCalledWith({ kind: 'by', seconds: HOUR });
    fireEvent.click(screen.getByRole('radio', { name: 'A duration from now' }));
    fireEvent.change(screen.getByLabelText('Expires after (amount)'), { target: { value: '30' } });
    // Past the cap: a message, a jp-mod-error mark (the Dialog disables Apply) and no value.
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/^1 d 6 h is longer than the 1 d your administrator allows/);
    expect(alert.classList.contains('jp-mod-error')).toBe(true);
    expect(onChange).toHaveBeenLastCalledWith(null);
    expect((screen.getByLabelText('Expires after (amount)') as HTMLInputElement).max).toBe('24');
  });
});

describe('expose', () => {
  const front: Smops.IPublicFront = {
    endpoint: 'iris-sm', created: true, url: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/invocations',
    api_key: 'k3y-VALUE-0123456789', api_key_id: 'kid', rest_api_id: 'abc123', usage_plan_id: 'up1',
    rate_limit: 5, burst_limit: 10, quota_per_day: 1000, runtime_url: null, message: '',
    curl: "curl -X POST https://abc123.execute-api.us-east-1.amazonaws.com/prod/invocations -H 'x-api-key: k3y-VALUE-0123456789'"
  };

  it('on SageMaker asks for the limits, then shows URL, key once and curl with copy buttons', async () => {
    const expose = jest.fn().mockResolvedValue(front);
    const { model, actions } = actionsFor(AWS_STATUS, { expose });
    const sm = endpoint('iris-sm', 'InService', { backend: 'sagemaker', url: null });
    const done = exposeEndpoint(actions, sm);
    await rendered('.jp-smops-expose');
    expect(dialog().textContent).toContain('This creates a public HTTPS URL for iris-sm');
    fireEvent.change(within(dialog()).getByLabelText('Requests per second (steady)'), { target: { value: '5' } });
    fireEvent.change(within(dialog()).getByLabelText('Burst (requests at once)'), { target: { value: '10' } });
    fireEvent.change(within(dialog()).getByLabelText('Requests per day'), { target: { value: '1000' } });
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Expose', hidden: true }));
    await waitFor(() => expect(expose).toHaveBeenCalledWith('iris-sm', { rate_limit: 5, burst_limit: 10, quota_per_day: 1000 }));
    await rendered('.jp-smops-front');
    expect(dialog().textContent).toContain('Public URL of iris-sm');
    const shown = within(dialog());
    expect(shown.getByLabelText('API key').textContent).toBe('k3y-VALUE-0123456789');
    expect(shown.getByRole('note', { hidden: true }).textContent).toMatch(/^This key is shown only now/);
    expect(dialog().textContent).toContain('Limits: 5 requests/s (bursts of 10), 1,000 requests/day.');
    const copy = jest.spyOn(Clipboard, 'copyToSystem').mockImplementation(() => undefined);
    fireEvent.click(shown.getByRole('button', { name: 'Copy API key', hidden: true }));
    fireEvent.click(shown.getByRole('button', { name: 'Copy curl example', hidden: true }));
    fireEvent.click(shown.getByRole('button', { name: 'Copy Public URL', hidden: true }));
    expect(copy.mock.calls.map(c => c[0])).toEqual([front.api_key, front.curl, front.url]);
    fireEvent.click(shown.getByRole('button', { name: 'Done', hidden: true }));
    expect(await done).toBe(true);
    model.dispose();
  });

  it('for a local endpoint shows what it would create and the local runtime URL, without asking', async () => {
    const local: Smops.IPublicFront = {
      ...front, endpoint: 'iris-v1', created: false, url: null, api_key: null, api_key_id: null, rest_api_id: null, usage_plan_id: null,
      runtime_url: 'http://127.0.0.1:41234', message: 'iris-v1 is a local endpoint: nothing is made public from this machine.',
      curl: 'curl -X POST http://127.0.0.1:41234/endpoints/iris-v1/invocations'
    };
    const expose = jest.fn().mockResolvedValue(local);
    const { model, actions } = actionsFor(STATUS, { expose });
    const done = exposeEndpoint(actions, endpoint('iris-v1', 'InService'));
    await rendered('.jp-smops-front');
    expect(dialog().textContent).toContain('iris-v1 is a local endpoint');
    expect(expose).toHaveBeenCalledWith('iris-v1', {});
    expect(within(dialog()).getByLabelText('Local SageMaker Runtime URL').textContent).toBe('http://127.0.0.1:41234');
    expect(within(dialog()).queryByLabelText('API key')).toBeNull();
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Done', hidden: true }));
    await done;
    model.dispose();
  });

  it('asks before removing a public URL, and does nothing when cancelled', async () => {
    const unexpose = jest.fn().mockResolvedValue({ endpoint: 'iris-sm', removed: true });
    const { model, actions } = actionsFor(AWS_STATUS, { unexpose });
    let done = actions.unexpose('iris-sm');
    await waitFor(() => expect(dialog()).toBeTruthy());
    expect(dialog().textContent).toContain('Its URL and API key stop working at once');
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Cancel', hidden: true }));
    expect(await done).toBe(false);
    expect(unexpose).not.toHaveBeenCalled();
    done = actions.unexpose('iris-sm');
    await waitFor(() => expect(dialog()).toBeTruthy());
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Remove', hidden: true }));
    expect(await done).toBe(true);
    expect(unexpose).toHaveBeenCalledWith('iris-sm');
    model.dispose();
  });
});

describe('palette commands', () => {
  it('change the expiry, expose and unexpose the named endpoint', async () => {
    const commands = new CommandRegistry();
    const app = { commands, shell: { activateById: jest.fn() }, contextMenu: { addItem: jest.fn() }, serviceManager: {} };
    const extendEndpointCall = jest.fn().mockResolvedValue(endpoint('iris-sm', 'InService'));
    const { model, actions } = actionsFor(AWS_STATUS, {
      endpoints: jest.fn().mockResolvedValue([endpoint('iris-sm', 'InService', { backend: 'sagemaker', public_url: 'https://x/prod/invocations' })]),
      extendEndpoint: extendEndpointCall,
      unexpose: jest.fn().mockResolvedValue({ endpoint: 'iris-sm', removed: true })
    });
    await model.checkServer('0.1.0');
    await model.refreshEndpoints();
    const unexpose = jest.spyOn(actions, 'unexpose').mockResolvedValue(true);
    addCommands(app as any, { panel: { id: 'p' } as SmopsPanel, actions, settings: () => DEFAULT_SETTINGS, browsers: null, palette: null });
    expect(commands.label(CommandIDs.extend)).toBe('Change the Expiry of an Endpoint…');
    expect(commands.label(CommandIDs.expose)).toBe('Expose an Endpoint at a Public URL…');
    await commands.execute(CommandIDs.unexpose, { name: 'iris-sm' });
    expect(unexpose).toHaveBeenCalledWith('iris-sm');
    const done = commands.execute(CommandIDs.extend, { name: 'iris-sm' });
    await rendered('.jp-smops-extend');
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Apply', hidden: true }));
    expect(await done).toBe(true);
    expect(extendEndpointCall).toHaveBeenCalledWith('iris-sm', { by: '1h' });
    model.dispose();
  });
});

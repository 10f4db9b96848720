import { Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { SmopsApiError } from '../api';
import { addCommands, CommandIDs } from '../commands';
import { ExposeForm, ExtendForm, PublicFrontView } from '../components/EndpointDialogs';
import { Pager } from '../components/Pager';
import { SmopsPanelView } from '../components/Panel';
import { detailsNode, errorDetails, packageDetails } from '../details';
import { humanSize, shortDate, shortSha } from '../format';
import { SmopsModel } from '../model';
import { PushDialogBody } from '../pushDialog';
import { DEFAULT_SETTINGS, ISmopsSettings } from '../settings';
import { nullTrans, TransContext, TranslationBundle } from '../trans';
import { Smops } from '../types';
import { SmopsPanel } from '../widget';
import { endpoint, job, mockActions, mockClient, RULES, STATUS, version } from './fixtures';

/**
 * A pseudo-locale: every message comes back as ⟦message⟧ (placeholders filled in as usual),
 * so a text on screen without the brackets did not go through the bundle.
 */
const OPEN = '⟦';
const CLOSE = '⟧';
const wrap = (text: string) => `${OPEN}${text}${CLOSE}`;
const pseudo: TranslationBundle = {
  __: (msgid: string, ...args: any[]) => wrap(nullTrans.__(msgid, ...args)),
  _n: (msgid: string, plural: string, n: number, ...args: any[]) =>
    wrap(nullTrans._n(msgid, plural, n, ...args)),
  _p: (ctx: string, msgid: string, ...args: any[]) => wrap(nullTrans._p(ctx, msgid, ...args)),
  _np: (ctx: string, msgid: string, plural: string, n: number, ...args: any[]) =>
    wrap(nullTrans._np(ctx, msgid, plural, n, ...args)),
  gettext: (msgid: string, ...args: any[]) => wrap(nullTrans.gettext(msgid, ...args)),
  ngettext: (msgid: string, plural: string, n: number, ...args: any[]) =>
    wrap(nullTrans.ngettext(msgid, plural, n, ...args)),
  pgettext: (ctx: string, msgid: string, ...args: any[]) =>
    wrap(nullTrans.pgettext(ctx, msgid, ...args)),
  npgettext: (ctx: string, msgid: string, plural: string, n: number, ...args: any[]) =>
    wrap(nullTrans.npgettext(ctx, msgid, plural, n, ...args)),
  dcnpgettext: (domain: string, ctx: string, msgid: string, plural: string, n: number, ...args: any[]) =>
    wrap(nullTrans.dcnpgettext(domain, ctx, msgid, plural, n, ...args))
};

/**
 * What may show untranslated: data, never words of the panel. A text passes when, after
 * removing every ⟦translated⟧ span and then every exact data value the test itself put in
 * (names, refs, URLs, versions, the server's own messages...), no letter is left: numbers,
 * dates, sizes' digits and punctuation need no translation, any word does. Contents of
 * <pre>, <code> and <textarea> are code or the user's data (request bodies, snippets, logs).
 */
function untranslated(text: string, data: string[]): string | null {
  let rest = text;
  // Innermost first: a translated message may hold another (a label inside a sentence).
  for (let before = ''; before !== rest; ) {
    before = rest;
    rest = rest.replace(/⟦[^⟦⟧]*⟧/g, ' ');
  }
  for (const value of [...data].sort((a, b) => b.length - a.length)) {
    if (value) {
      rest = rest.split(value).join(' ');
    }
  }
  return /\p{L}/u.test(rest) ? text : null;
}

const ATTRIBUTES = ['aria-label', 'title', 'placeholder', 'alt', 'aria-description', 'aria-valuetext', 'label'];
const CODE = 'pre, code, textarea';

/** Every visible text and labelling attribute under `root` that did not go through the bundle. */
function offenders(root: Element, data: string[]): string[] {
  const found: string[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(CODE) || parent.closest('style, script')) {
      continue;
    }
    const bad = untranslated(node.textContent ?? '', data);
    if (bad) {
      found.push(`text "${bad.trim()}" in <${parent.tagName.toLowerCase()} class="${parent.className}">`);
    }
  }
  for (const element of [root, ...Array.from(root.querySelectorAll('*'))]) {
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      const bad = value ? untranslated(value, data) : null;
      if (bad) {
        found.push(`${name}="${bad}" on <${element.tagName.toLowerCase()}>`);
      }
    }
  }
  return found;
}

/** The data of the fixtures below, as they are shown. */
const SERVER_SAYS = [
  'did not pass the ping health check',
  'model_fn opens iris_model.pkl but the archive has iris-model.pkl',
  RULES.names.description
];

function dataOf(models: Smops.IModel[], endpoints: Smops.IEndpoint[], status: Smops.IStatus): string[] {
  const values = [...SERVER_SAYS, status.owner];
  for (const v of models.flatMap(m => m.versions)) {
    values.push(v.name, `${v.name}:${v.version}`, shortSha(v.sha256), v.sha256, humanSize(v.size));
    values.push(shortDate(v.created_at), v.framework_version ?? '', v.serving_version ?? '');
  }
  for (const e of endpoints) {
    values.push(e.name, e.status, e.url ?? '', e.public_url ?? '', e.instance_type ?? '', e.failure_reason ?? '');
    values.push(e.model, `${e.model}:${e.version}`, e.image_uri ?? '', e.arn ?? '');
  }
  for (const key of ['region', 'account', 'bucket'] as const) {
    values.push(status[key] ?? '');
  }
  values.push(status.studio.domain_id ?? '', status.studio.user_profile_name ?? '');
  values.push(...status.instance_types.map(t => t.instance_type), status.prices.note, status.prices.source);
  // Content types are identifiers, the same in every language.
  values.push('application/json', 'text/csv', 'application/x-npy', 'text/plain');
  return values.filter(Boolean);
}

const MODELS: Smops.IModel[] = [
  {
    name: 'iris',
    versions: [
      version('iris', 1, { approval_status: 'Approved' }),
      version('iris', 2, { approval_status: 'Rejected' }),
      // identical to v1 (same sha256), pinned on the nearest image
      version('iris', 3, {
        sha256: version('iris', 1).sha256,
        framework_version: '1.7.2',
        serving_version: '1.4-2-py312',
        requirements: ['scikit-learn==1.7.2'],
        requirements_pin: '1.7.2',
        pin_added: true
      })
    ]
  },
  { name: 'wine', versions: [version('wine', 1, { framework_version: '1.5.2', serving_version: null })] }
];

const ENDPOINTS: Smops.IEndpoint[] = [
  endpoint('iris-v1', 'InService', { instance_count: 2 }),
  endpoint('iris-aws', 'Creating', {
    backend: 'sagemaker',
    url: null,
    instance_type: 'ml.t2.medium',
    instance_count: 1,
    cost_per_hour: 0.056,
    cost_so_far: 0.01,
    expires_at: '2026-11-26T23:41:00Z',
    seconds_left: 7200,
    cost_until_expiry: 0.112
  }),
  endpoint('iris-bad', 'Failed', { failure_reason: 'did not pass the ping health check' })
];

const AWS_STATUS: Smops.IStatus = {
  ...STATUS,
  backend: 'aws',
  version: '0.2.0',
  region: 'eu-west-1',
  account: '123456789012',
  bucket: 'sagemaker-eu-west-1-123456789012',
  studio: { detected: true, domain_id: 'd-abc', user_profile_name: 'alice', space_name: null },
  instance_types: [
    { instance_type: 'ml.t2.medium', hourly_usd: 0.056 },
    { instance_type: 'ml.m5.large', hourly_usd: 0.115 }
  ],
  prices: { region: 'us-east-1', date: '2025-06-01', source: 'built in', fetched: false, note: 'built-in prices of 2025-06-01' },
  rules: { ...RULES, approval: { required: true, local_exempt: true } }
};

async function renderPanel(status: Smops.IStatus, settings: ISmopsSettings = DEFAULT_SETTINGS) {
  const client = mockClient({
    trans: pseudo,
    status: jest.fn().mockResolvedValue(status),
    models: jest.fn().mockResolvedValue(MODELS),
    endpoints: jest.fn().mockResolvedValue(ENDPOINTS)
  });
  const model = new SmopsModel(client);
  const actions = mockActions(model);
  await model.checkServer('0.1.0');
  await model.load();
  const view = render(
    <TransContext.Provider value={pseudo}>
      <SmopsPanelView model={model} actions={actions} settings={settings} onPush={jest.fn()} />
    </TransContext.Provider>
  );
  return { model, actions, client, view, data: dataOf(MODELS, ENDPOINTS, status) };
}

/** Brings every part of the panel on screen that needs a click: logs, a response, the chart, cleanup. */
async function exercise(actions: ReturnType<typeof mockActions>) {
  const logs = screen.queryByRole('button', { name: /Show logs of iris-v1/ });
  if (logs) {
    fireEvent.click(logs);
  }
  const send = screen.queryByRole('button', { name: /Send request/ });
  if (send) {
    fireEvent.click(send);
    await screen.findByTestId('smops-response-body');
  }
  actions.cleanup.mockResolvedValue({
    dry_run: true,
    endpoints: ['iris-v1'],
    endpoint_configs: ['iris-v1'],
    models: ['iris-v1'],
    registry_versions: ['iris:2'],
    errors: []
  });
  await act(async () => {
    fireEvent.click(screen.getByRole('button', { name: /Preview cleanup/ }));
  });
  await screen.findByRole('list', { name: /Would be deleted/ });
}

afterEach(() => {
  jest.restoreAllMocks();
  document.body.innerHTML = '';
});

describe('the pseudo-locale check itself', () => {
  it('catches a word outside the bundle and lets data through', () => {
    const data = ['iris-v1', 'http://127.0.0.1:40000'];
    const root = document.createElement('div');
    root.innerHTML =
      '<span>⟦Deploy⟧ iris-v1</span><span>3 / 4</span><span>2026-11-26 19:40</span>' +
      '<a title="http://127.0.0.1:40000">⟦Open⟧</a><pre>curl -X POST</pre>';
    expect(offenders(root, data)).toEqual([]);
    root.innerHTML = '<span>⟦Deploy⟧ iris-v1 now</span><button aria-label="Refresh">⟦x⟧</button><i>v</i>';
    expect(offenders(root, data)).toEqual([
      'text "⟦Deploy⟧ iris-v1 now" in <span class="">',
      'text "v" in <i class="">',
      'aria-label="Refresh" on <button>'
    ]);
  });
});

describe('every string of the panel goes through the translation bundle', () => {
  it('local backend: models, deploy, endpoints, test inference with a response, logs, cleanup', async () => {
    const { model, actions, view, data } = await renderPanel(STATUS);
    await exercise(actions);
    expect(offenders(view.container, data)).toEqual([]);
    model.dispose();
  });

  it('aws backend: mismatch banners, Studio, prices, approval, a pinned version and one without an image', async () => {
    const settings = { ...DEFAULT_SETTINGS, defaultBackend: 'aws' as const, bucket: 'my-bucket', ownerTagKey: 'team' };
    const { model, actions, view, data } = await renderPanel(AWS_STATUS, settings);
    data.push('my-bucket', 'team', 'studiouserid', '0.1.0', '0.2.0', 'SMOPS_BUCKET', 'SMOPS_OWNER_TAG_KEY', 'jupyter_smops');
    // The pinned version (its framework note), then the one with no serving image.
    fireEvent.click(screen.getByRole('button', { name: /Select iris:3 for deploy/ }));
    expect(view.container.textContent).toContain('scikit-learn==1.7.2 pinned');
    expect(offenders(view.container, data)).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: /Select wine:1 for deploy/ }));
    expect(view.container.textContent).toContain('has no SageMaker scikit-learn serving image');
    await exercise(actions);
    expect(offenders(view.container, data)).toEqual([]);
    model.dispose();
  });

  it('the server not answering, and a section that failed to load', async () => {
    const client = mockClient({
      trans: pseudo,
      status: jest.fn().mockRejectedValue(new SmopsApiError('NetworkError', 'socket hang up'))
    });
    const model = new SmopsModel(client);
    await model.checkServer('0.1.0');
    const view = render(
      <TransContext.Provider value={pseudo}>
        <SmopsPanelView model={model} actions={mockActions(model)} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />
      </TransContext.Provider>
    );
    expect(offenders(view.container, ['socket hang up'])).toEqual([]);
    model.dispose();
    view.unmount();

    // The server answers, models do not load, and a cleanup ran with an error.
    const failing = mockClient({
      trans: pseudo,
      models: jest.fn().mockRejectedValue(new SmopsApiError('UpstreamError', 'S3 is unreachable.', 502))
    });
    const loaded = new SmopsModel(failing);
    await loaded.checkServer('0.1.0');
    await loaded.load();
    const actions = mockActions(loaded);
    const result = { dry_run: false, endpoints: ['iris-v1'], endpoint_configs: [], models: [], registry_versions: [], errors: ['iris-v2: AccessDenied'] };
    actions.cleanup.mockResolvedValue(result);
    const panel = render(
      <TransContext.Provider value={pseudo}>
        <SmopsPanelView model={loaded} actions={actions} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />
      </TransContext.Provider>
    );
    expect(panel.container.textContent).toContain('S3 is unreachable.');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: /Preview cleanup/ }));
    });
    fireEvent.click(await screen.findByRole('button', { name: /Delete everything listed/ }));
    const confirm = await waitFor(() => {
      const node = document.querySelector('.jp-Dialog');
      expect(node).not.toBeNull();
      return node!;
    });
    expect(offenders(confirm, [])).toEqual([]);
    await act(async () => {
      (confirm.querySelector('.jp-mod-accept') as HTMLButtonElement).click();
    });
    await waitFor(() => expect(panel.container.textContent).toContain('AccessDenied'));
    expect(offenders(panel.container, [...dataOf(MODELS, ENDPOINTS, STATUS), 'S3 is unreachable.', 'iris-v2: AccessDenied'])).toEqual([]);
    loaded.dispose();
  });

  it('the widget hands JupyterLab\'s bundle to the React tree', async () => {
    const model = new SmopsModel(mockClient({ trans: pseudo }));
    const panel = new SmopsPanel({ model, actions: mockActions(model), trans: pseudo, onPush: jest.fn() });
    const view = render(panel.render());
    expect(view.container.querySelector('h2')!.textContent).toBe(wrap('SageMaker MLOps'));
    model.dispose();
  });
});

describe('parts shown only on demand go through the bundle', () => {
  const inPseudo = (element: JSX.Element) =>
    render(<TransContext.Provider value={pseudo}>{element}</TransContext.Provider>);

  it('the pager of a long list', () => {
    const view = inPseudo(<Pager page={1} total={80} label={pseudo.__('models')} onPage={jest.fn()} />);
    expect(view.container.textContent).toContain('2 / 4');
    expect(offenders(view.container, [])).toEqual([]);
  });

  it('the extend and expose dialogs, and what an expose gave', () => {
    const e = ENDPOINTS[1];
    const policy = { defaultSeconds: 3600, maxSeconds: 86400, noExpiryAllowed: false };
    const front: Smops.IPublicFront = {
      endpoint: e.name,
      created: true,
      url: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/invocations',
      api_key: 'k3y-value',
      api_key_id: 'kid',
      rest_api_id: 'abc123',
      usage_plan_id: 'up1',
      rate_limit: 10,
      burst_limit: 20,
      quota_per_day: 10000,
      runtime_url: null,
      message: 'iris-aws is public at its URL with the API key.',
      curl: 'curl -H "x-api-key: k3y-value" https://abc123.execute-api.us-east-1.amazonaws.com/prod/invocations'
    };
    const data = [...dataOf(MODELS, ENDPOINTS, STATUS), front.url!, front.api_key!, front.message];
    for (const element of [
      <ExtendForm endpoint={e} policy={policy} left={7200} onChange={jest.fn()} />,
      <ExposeForm endpoint={e} onChange={jest.fn()} />,
      <PublicFrontView front={front} />,
      <PublicFrontView
        front={{ ...front, created: false, url: null, api_key: null, runtime_url: 'http://127.0.0.1:8080', message: 'Local: nothing was made public.' }}
      />
    ]) {
      const view = inPseudo(element);
      expect(offenders(view.container, [...data, 'http://127.0.0.1:8080', 'Local: nothing was made public.'])).toEqual([]);
      view.unmount();
    }
  });
});

describe('commands, toasts and dialogs go through the bundle', () => {
  it("every command's label and caption, with and without arguments", () => {
    const commands = new CommandRegistry();
    const model = new SmopsModel(mockClient({ trans: pseudo }));
    const app = {
      commands,
      shell: { activateById: jest.fn() },
      contextMenu: { addItem: jest.fn() },
      serviceManager: {}
    };
    const categories: string[] = [];
    addCommands(app as any, {
      panel: { id: 'jp-smops-panel' } as SmopsPanel,
      actions: mockActions(model) as unknown as SmopsActions,
      settings: () => DEFAULT_SETTINGS,
      browsers: null,
      palette: { addItem: (item: { category: string }) => categories.push(item.category) } as any,
      trans: pseudo
    });
    const wrapped = /^⟦[^]*⟧$/;
    for (const id of Object.values(CommandIDs)) {
      for (const args of [{}, { fromBrowser: true }, { path: 'iris.joblib' }]) {
        expect({ id, label: commands.label(id, args) }).toEqual({ id, label: expect.stringMatching(wrapped) });
        const caption = commands.caption(id, args);
        if (caption) {
          expect({ id, caption }).toEqual({ id, caption: expect.stringMatching(wrapped) });
        }
      }
    }
    expect(new Set(categories)).toEqual(new Set([wrap('SageMaker MLOps')]));
    model.dispose();
  });

  it('toasts of every action, their buttons and the dialogs they open', async () => {
    const messages: string[] = [];
    const buttons: string[] = [];
    const collect = (message: string, options?: { actions?: Notification.IAction[] }) => {
      messages.push(message);
      for (const a of options?.actions ?? []) {
        buttons.push(a.label, a.caption ?? '');
      }
    };
    jest.spyOn(Notification, 'emit').mockImplementation((m, _t, o) => (collect(m, o), 'n1'));
    jest.spyOn(Notification, 'update').mockImplementation(o => (collect(o.message!, o), true));
    jest.spyOn(Notification, 'error').mockImplementation((m, o) => (collect(m, o), 'n2'));
    jest.spyOn(Notification, 'success').mockImplementation((m, o) => (collect(m, o), 'n3'));
    const failure = new SmopsApiError('InvalidArtifact', SERVER_SAYS[1], 422, {
      checks: [
        { name: 'archive', ok: true, message: '', severity: 'error' },
        { name: 'model-fn', ok: false, message: SERVER_SAYS[1], severity: 'error' }
      ]
    });
    const client = mockClient({
      trans: pseudo,
      models: jest.fn().mockResolvedValue(MODELS),
      push: jest.fn().mockResolvedValue({ job: job('running') }),
      waitForJob: jest
        .fn()
        .mockResolvedValueOnce(job('succeeded', { result: MODELS[0].versions[2] }))
        .mockRejectedValueOnce(failure)
        .mockResolvedValue(job('succeeded')),
      deploy: jest.fn().mockResolvedValue({ job: job('running'), endpoint: 'iris-v1' }),
      endpoints: jest.fn().mockResolvedValue(ENDPOINTS),
      setApproval: jest.fn().mockResolvedValue(MODELS[0].versions[0]),
      cleanup: jest.fn().mockResolvedValue({
        dry_run: false, endpoints: ['iris-v1'], endpoint_configs: [], models: [], registry_versions: [], errors: ['x']
      }),
      package: jest.fn().mockResolvedValue({
        path: 'out/model.tar.gz', sha256: 'ab'.repeat(32), size: 2867, model_file: 'model.joblib',
        framework: 'sklearn', framework_version: '1.9.1', serving_version: '1.9-0', sample_input: null, ok: true,
        checks: [{ name: 'sample-predict', ok: false, message: 'no sample given', severity: 'warning' }]
      })
    });
    const model = new SmopsModel(client);
    const actions = new SmopsActions(model, jest.fn(), pseudo);
    await actions.push({ path: 'iris.joblib', name: 'iris' }); // identical to v1
    await actions.push({ path: 'iris-model.pkl', name: 'iris' }).catch(() => undefined);
    await actions.deploy({ model: 'iris', version: 1, local: true });
    await actions.approve('iris:1');
    await actions.reject('iris:1');
    await actions.cleanup(false);
    await actions.validate('out/model.tar.gz');
    const data = [...dataOf(MODELS, ENDPOINTS, STATUS), 'iris.joblib', 'iris-model.pkl', 'out/model.tar.gz', 'running', 'uploading'];
    expect(messages.length).toBeGreaterThan(10);
    expect(messages.map(m => untranslated(m, data)).filter(Boolean)).toEqual([]);
    expect(buttons.map(b => untranslated(b, data)).filter(Boolean)).toEqual([]);

    // The confirmation before a delete, and the Details dialogs' bodies.
    const answer = actions.deleteEndpoint('iris-v1');
    const dialog = await waitFor(() => {
      const node = document.querySelector('.jp-Dialog');
      expect(node).not.toBeNull();
      return node!;
    });
    expect(offenders(dialog, data)).toEqual([]);
    (dialog.querySelector('.jp-mod-reject') as HTMLButtonElement).click();
    await answer;
    const details = detailsNode(errorDetails(failure, pseudo), pseudo);
    const validated = detailsNode(packageDetails(await client.package({ path: 'x' }), pseudo), pseudo);
    data.push('InvalidArtifact', 'archive', 'model-fn', 'sample-predict', 'no sample given', 'model.joblib');
    data.push(shortSha('ab'.repeat(32)));
    expect(offenders(details, data)).toEqual([]);
    expect(offenders(validated, data)).toEqual([]);
    model.dispose();
  });

  it('the push dialog', () => {
    const body = new PushDialogBody('work/iris.joblib', ['work/inference.py'], ['work/requirements.txt'], ['iris'], pseudo);
    // The sample's placeholder is an example of JSON, the same in every language.
    const data = ['work/iris.joblib', 'work/inference.py', 'work/requirements.txt', 'iris', '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'];
    expect(offenders(body.node, data)).toEqual([]);
    body.dispose();
  });
});

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import {
  choiceSeconds,
  costUntilExpiry,
  ExtendChoice,
  expiryPolicy,
  extendRequest,
  formatDuration,
  IExpiryChoice,
  IExpiryPolicy,
  leftAfter,
  lifetimeProblem,
  secondsLeft,
  timeLeftText
} from '../expiry';
import { usd } from '../format';
import { nullTrans, TransContext, TranslationBundle, useTrans } from '../trans';
import { Smops } from '../types';
import { CopyButton, ExpiryField } from './Expiry';

/** The quick choices of the extend dialog: later than planned by this many seconds. */
const QUICK = [3600, 4 * 3600];

/** The "duration from now" the extend dialog starts with. */
const custom0: IExpiryChoice = { amount: 2, unit: 'h', never: false };

/** The choices of the extend dialog, by key. */
type ExtendKey = 'by-0' | 'by-1' | 'from-now' | 'never';

function choiceOf(key: ExtendKey, custom: IExpiryChoice): ExtendChoice {
  if (key === 'never') {
    return { kind: 'never' };
  }
  if (key === 'from-now') {
    return { kind: 'from-now', seconds: choiceSeconds(custom) ?? NaN };
  }
  return { kind: 'by', seconds: QUICK[Number(key.slice(3))] };
}

/** Which quick choices stay within the cap. */
function quickFits(policy: IExpiryPolicy, left: number | null): boolean[] {
  return QUICK.map(
    seconds => !lifetimeProblem(leftAfter({ kind: 'by', seconds }, left), policy, nullTrans)
  );
}

/** The first choice that fits: +1 h, else +4 h, else a duration from now. */
function firstKey(quickOk: boolean[]): ExtendKey {
  return quickOk[0] ? 'by-0' : quickOk[1] ? 'by-1' : 'from-now';
}

/**
 * The extend dialog's form: +1 h, +4 h, a duration from now, or no expiry (where allowed),
 * with what each would leave. An invalid choice marks the form `jp-mod-error`, which keeps
 * the dialog's Apply button disabled (JupyterLab's Dialog checks on every input event).
 */
export function ExtendForm(props: {
  endpoint: Smops.IEndpoint;
  policy: IExpiryPolicy;
  left: number | null;
  onChange: (choice: ExtendChoice | null) => void;
}): JSX.Element {
  const trans = useTrans();
  const { endpoint: e, policy, left } = props;
  const problemOf = (choice: ExtendChoice) => lifetimeProblem(leftAfter(choice, left), policy, trans);
  const quickOk = quickFits(policy, left);
  const [key, setKey] = React.useState<ExtendKey>(firstKey(quickOk));
  const [custom, setCustom] = React.useState<IExpiryChoice>(custom0);
  const choice = choiceOf(key, custom);
  const problem = problemOf(choice);
  const node = React.useRef<HTMLDivElement>(null);
  // A layout effect: the dialog's value is current before any click can reach its buttons.
  React.useLayoutEffect(() => {
    props.onChange(problem ? null : choice);
    // Ask the surrounding Dialog to re-check validity now that React has rendered.
    node.current?.dispatchEvent(new Event('input', { bubbles: true }));
  });
  const after = leftAfter(choice, left);
  const cost = costUntilExpiry(e, after);
  const radio = (value: ExtendKey, label: string, disabled = false, hint?: string) => (
    <label className="jp-smops-check">
      <input
        type="radio"
        name="jp-smops-extend"
        value={value}
        checked={key === value}
        disabled={disabled}
        onChange={() => setKey(value)}
      />
      <span>
        {label}
        {hint && <span className="jp-smops-muted"> {hint}</span>}
      </span>
    </label>
  );
  return (
    <div className="jp-smops-form jp-smops-extend" ref={node}>
      <p className="jp-smops-dialog-lead">
        {trans.__('Now: %1.', timeLeftText(left, trans))}
      </p>
      <div role="radiogroup" aria-label={trans.__('New expiry')} className="jp-smops-form">
        {QUICK.map((seconds, i) =>
          radio(
            `by-${i}` as ExtendKey,
            trans.__('%1 later', formatDuration(seconds, trans)),
            !quickOk[i],
            quickOk[i]
              ? trans.__('(then %1)', formatDuration(leftAfter({ kind: 'by', seconds }, left) ?? 0, trans))
              : trans.__('(more than your administrator allows)')
          )
        )}
        {radio('from-now', trans.__('A duration from now'))}
        {key === 'from-now' && (
          <ExpiryField
            value={custom}
            onChange={setCustom}
            policy={policy}
            legend={trans.__('Expire after')}
            problem={null}
            noNever
          />
        )}
        {policy.noExpiryAllowed && radio('never', trans.__('No expiry (runs until deleted)'))}
      </div>
      {problem ? (
        <div className="jp-smops-field-error jp-mod-error" role="alert">
          {problem}
        </div>
      ) : (
        <p className="jp-smops-muted" aria-live="polite" data-testid="smops-extend-preview">
          {after === null
            ? trans.__('Then: it runs until you delete it.')
            : cost !== null
              ? trans.__('Then: %1 · about %2 until then.', timeLeftText(after, trans), usd(cost, 2))
              : trans.__('Then: %1.', timeLeftText(after, trans))}
        </p>
      )}
    </div>
  );
}

/** A dialog body around ExtendForm whose value is the user's choice. */
class ExtendBody extends ReactWidget implements Smops.IDialogBody<ExtendChoice | null> {
  constructor(
    private readonly _props: Omit<React.ComponentProps<typeof ExtendForm>, 'onChange'>,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-smops-dialog');
    // The form's first choice, should the dialog be accepted before React has rendered it.
    const first = choiceOf(firstKey(quickFits(_props.policy, _props.left)), custom0);
    const problem = lifetimeProblem(leftAfter(first, _props.left), _props.policy, nullTrans);
    this._choice = problem ? null : first;
  }

  getValue(): ExtendChoice | null {
    return this._choice;
  }

  render(): JSX.Element {
    return (
      <TransContext.Provider value={this._trans}>
        <ExtendForm {...this._props} onChange={choice => (this._choice = choice)} />
      </TransContext.Provider>
    );
  }

  private _choice: ExtendChoice | null;
}

/** What the server rules allow for this endpoint (everything, when it sends no rules). */
function policyFor(actions: SmopsActions, e: Smops.IEndpoint): IExpiryPolicy {
  return (
    expiryPolicy(actions.model.status?.rules, e.backend === 'local') ?? {
      defaultSeconds: null,
      maxSeconds: null,
      noExpiryAllowed: true
    }
  );
}

/**
 * Asks how to move an endpoint's expiry, then moves it. `left` is the time left the row
 * shows (computed from the last answer when not given).
 */
export async function extendEndpoint(
  actions: SmopsActions,
  e: Smops.IEndpoint,
  left: number | null = secondsLeft(e, Date.now(), Date.now())
): Promise<boolean> {
  const trans = actions.trans;
  const body = new ExtendBody({ endpoint: e, policy: policyFor(actions, e), left }, trans);
  const answer = await showDialog<ExtendChoice | null>({
    title: trans.__('Change the expiry of %1', e.name),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Apply'), ariaLabel: trans.__('Apply the new expiry of %1', e.name) })
    ],
    focusNodeSelector: 'input[type="radio"]:checked'
  });
  if (!answer.button.accept || !answer.value) {
    return false;
  }
  await actions.extend(e.name, extendRequest(answer.value)).catch(() => undefined);
  return true;
}

/** The usage plan's limits a SageMaker expose asks for. */
interface ILimits {
  rate_limit: number;
  burst_limit: number;
  quota_per_day: number;
}

const DEFAULT_LIMITS: ILimits = { rate_limit: 10, burst_limit: 20, quota_per_day: 10000 };

/** What a SageMaker expose will create, with the usage plan's limits to adjust. */
export function ExposeForm(props: {
  endpoint: Smops.IEndpoint;
  onChange: (limits: ILimits) => void;
}): JSX.Element {
  const trans = useTrans();
  const [limits, setLimits] = React.useState<ILimits>(DEFAULT_LIMITS);
  React.useLayoutEffect(() => {
    props.onChange(limits);
  });
  const field = (key: keyof ILimits, label: string, min: number, step: number | 'any') => (
    <label>
      {label}
      <input
        type="number"
        required
        min={min}
        step={step}
        className="jp-mod-styled jp-smops-input"
        value={Number.isFinite(limits[key]) ? limits[key] : ''}
        onChange={ev => setLimits({ ...limits, [key]: ev.currentTarget.valueAsNumber })}
      />
    </label>
  );
  return (
    <div className="jp-smops-form jp-smops-expose">
      <p className="jp-smops-dialog-lead">
        {trans.__(
          'This creates a public HTTPS URL for %1: an API Gateway REST API (POST /invocations into the endpoint) with an API key and a usage plan, tagged with your owner tag.',
          props.endpoint.name
        )}
      </p>
      <p className="jp-smops-muted">
        {trans.__(
          'Anyone with the URL and the key can call the model, and each call is billed to your account. The key is shown once, right after.'
        )}
      </p>
      {field('rate_limit', trans.__('Requests per second (steady)'), 0.001, 'any')}
      {field('burst_limit', trans.__('Burst (requests at once)'), 1, 1)}
      {field('quota_per_day', trans.__('Requests per day'), 1, 1)}
    </div>
  );
}

class ExposeBody extends ReactWidget implements Smops.IDialogBody<ILimits> {
  constructor(
    private readonly _endpoint: Smops.IEndpoint,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-smops-dialog');
  }

  getValue(): ILimits {
    return this._limits;
  }

  render(): JSX.Element {
    return (
      <TransContext.Provider value={this._trans}>
        <ExposeForm endpoint={this._endpoint} onChange={l => (this._limits = l)} />
      </TransContext.Provider>
    );
  }

  private _limits: ILimits = DEFAULT_LIMITS;
}

/** One labelled value with a copy button (URL, key, command). */
function Copyable(props: { label: string; value: string; code?: boolean }): JSX.Element {
  const trans = useTrans();
  return (
    <div className="jp-smops-copyable">
      <div className="jp-smops-copyable-head">
        <span className="jp-smops-copyable-label">{props.label}</span>
        <CopyButton text={props.value} label={trans.__('Copy %1', props.label)} />
      </div>
      {props.code ? (
        <pre className="jp-smops-details" aria-label={props.label}>
          {props.value}
        </pre>
      ) : (
        <code className="jp-smops-public-url" aria-label={props.label}>
          {props.value}
        </code>
      )}
    </div>
  );
}

/** What an expose gave: URL, key (once), limits and a curl example; locally, the runtime URL. */
export function PublicFrontView(props: { front: Smops.IPublicFront }): JSX.Element {
  const trans = useTrans();
  const { front } = props;
  if (!front.created) {
    return (
      <div className="jp-smops-form jp-smops-front">
        <p className="jp-smops-dialog-lead">{front.message}</p>
        {front.runtime_url && (
          <Copyable label={trans.__('Local SageMaker Runtime URL')} value={front.runtime_url} />
        )}
        {front.curl && <Copyable label={trans.__('curl example')} value={front.curl} code />}
      </div>
    );
  }
  return (
    <div className="jp-smops-form jp-smops-front">
      {front.url && <Copyable label={trans.__('Public URL')} value={front.url} />}
      {front.api_key && (
        <>
          <Copyable label={trans.__('API key')} value={front.api_key} />
          <div className="jp-smops-banner jp-smops-warning" role="note">
            {trans.__(
              'This key is shown only now: copy it before you close this dialog. Anyone with the URL and the key can call the endpoint. Lost it? Read it again in API Gateway, or unexpose and expose again for a new one.'
            )}
          </div>
        </>
      )}
      {front.rate_limit !== null && (
        <p className="jp-smops-muted">
          {trans.__(
            'Limits: %1 requests/s (bursts of %2), %3 requests/day.',
            front.rate_limit.toLocaleString(),
            front.burst_limit?.toLocaleString() ?? '?',
            front.quota_per_day?.toLocaleString() ?? '?'
          )}
        </p>
      )}
      {front.curl && <Copyable label={trans.__('curl example')} value={front.curl} code />}
    </div>
  );
}

/** Shows an expose's answer; the only place the panel ever shows the key. */
export function showPublicFront(
  front: Smops.IPublicFront,
  trans: TranslationBundle
): Promise<Dialog.IResult<unknown>> {
  const body = ReactWidget.create(
    <TransContext.Provider value={trans}>
      <PublicFrontView front={front} />
    </TransContext.Provider>
  );
  body.addClass('jp-smops-dialog');
  return showDialog({
    title: front.created
      ? trans.__('Public URL of %1', front.endpoint)
      : // The server's message opens with "<name> is a local endpoint": not said twice.
        trans.__('Expose %1', front.endpoint),
    body,
    buttons: [Dialog.okButton({ label: trans.__('Done') })]
  });
}

/**
 * Exposes an endpoint: on SageMaker after the user confirmed what it creates (and its
 * limits), then shows the URL and the key once; a local endpoint's answer (what it would
 * create, the local runtime URL) is shown straight away.
 */
export async function exposeEndpoint(actions: SmopsActions, e: Smops.IEndpoint): Promise<boolean> {
  const trans = actions.trans;
  let request: Smops.IExposeRequest = {};
  if (e.backend !== 'local') {
    const answer = await showDialog<ILimits>({
      title: trans.__('Expose %1', e.name),
      body: new ExposeBody(e, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Expose'), ariaLabel: trans.__('Create the public URL of %1', e.name) })
      ],
      focusNodeSelector: 'input'
    });
    if (!answer.button.accept || !answer.value) {
      return false;
    }
    request = answer.value;
  }
  const front = await actions.expose(e.name, request).catch(() => null);
  if (!front) {
    return false;
  }
  await showPublicFront(front, trans);
  return true;
}

import { Clipboard } from '@jupyterlab/apputils';
import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  costUntilExpiry,
  DurationUnit,
  formatDuration,
  IExpiryChoice,
  IExpiryPolicy,
  timeLeftText,
  UNIT_SECONDS
} from '../expiry';
import { shortDate, usd } from '../format';
import { TranslationBundle, useTrans } from '../trans';
import { Smops } from '../types';

/** Under this many seconds left the row's time left turns to the warning colour. */
const SOON_SECONDS = 15 * 60;

/** Re-renders every `interval` ms (never when null): for text that depends on the clock. */
export function useTick(interval: number | null): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    if (interval === null) {
      return;
    }
    const timer = window.setInterval(() => setTick(t => t + 1), interval);
    return () => window.clearInterval(timer);
  }, [interval]);
}

function unitOptions(amount: number, trans: TranslationBundle) {
  // Plural forms follow the amount typed ("1 hour", "4 hours").
  const n = Number.isFinite(amount) ? amount : 2;
  return [
    { value: 'min', label: trans._n('minute', 'minutes', n) },
    { value: 'h', label: trans._n('hour', 'hours', n) },
    { value: 'd', label: trans._n('day', 'days', n) }
  ];
}

/**
 * An amount and a unit, and "No expiry" where the policy allows it. The amount's `max` is the
 * admin's cap in the chosen unit, so a dialog holding it refuses to accept past the cap.
 */
export function ExpiryField(props: {
  value: IExpiryChoice;
  onChange: (value: IExpiryChoice) => void;
  policy: IExpiryPolicy;
  /** The legend, e.g. "Expiry". */
  legend: string;
  /** Why the value cannot be used (shown under it), or null. */
  problem: string | null;
  /** Below the field when there is no problem: what the choice means. */
  note?: string | null;
  /** Hide "No expiry" (a choice of its own in the extend dialog). */
  noNever?: boolean;
}): JSX.Element {
  const trans = useTrans();
  const { value, policy } = props;
  const set = (change: Partial<IExpiryChoice>) => props.onChange({ ...value, ...change });
  const max = policy.maxSeconds === null ? undefined : policy.maxSeconds / UNIT_SECONDS[value.unit];
  return (
    <fieldset className="jp-smops-fieldset jp-smops-expiry">
      <legend>{props.legend}</legend>
      <div className="jp-smops-expiry-amount">
        <input
          type="number"
          min={0}
          step="any"
          max={max}
          className="jp-mod-styled jp-smops-input"
          aria-label={trans.__('Expires after (amount)')}
          aria-invalid={!!props.problem && !value.never}
          value={Number.isFinite(value.amount) ? value.amount : ''}
          disabled={value.never}
          onChange={e => set({ amount: e.currentTarget.valueAsNumber })}
        />
        <HTMLSelect
          aria-label={trans.__('Expires after (unit)')}
          value={value.unit}
          disabled={value.never}
          onChange={e => set({ unit: e.currentTarget.value as DurationUnit })}
          options={unitOptions(value.amount, trans)}
        />
      </div>
      {/* Also while ticked where it is not allowed (switched from local), to untick it. */}
      {!props.noNever && (policy.noExpiryAllowed || value.never) && (
        <label className="jp-smops-check">
          <input
            type="checkbox"
            checked={value.never}
            onChange={e => set({ never: e.currentTarget.checked })}
          />
          {trans.__('No expiry (runs until deleted)')}
        </label>
      )}
      {policy.maxSeconds !== null && (
        <div className="jp-smops-muted">
          {trans.__(
            'Your administrator allows at most %1 on SageMaker.',
            formatDuration(policy.maxSeconds, trans)
          )}
        </div>
      )}
      {props.problem ? (
        <div className="jp-smops-field-error" role="alert">
          {props.problem}
        </div>
      ) : (
        props.note && (
          <div className="jp-smops-muted" aria-live="polite">
            {props.note}
          </div>
        )
      )}
    </fieldset>
  );
}

/**
 * An endpoint row's time left ("Expires in 3 h 12 min"), with the cost until then on SageMaker
 * and the action that changes it beside it.
 */
export function ExpiryLine(props: {
  endpoint: Smops.IEndpoint;
  left: number | null;
  action?: React.ReactNode;
}): JSX.Element {
  const trans = useTrans();
  const { endpoint: e, left } = props;
  const cost = costUntilExpiry(e, left);
  const state = left === null ? 'never' : left < 1 ? 'expired' : left < SOON_SECONDS ? 'soon' : 'later';
  const text = timeLeftText(left, trans);
  return (
    <div className="jp-smops-row-line">
      <span
        className={`jp-smops-expiry-left jp-smops-expiry-${state}`}
        data-testid="smops-expiry"
        data-state={state}
        title={e.expires_at ? trans.__('Deleted automatically at %1', shortDate(e.expires_at)) : undefined}
      >
        {cost !== null && left !== null && left >= 1
          ? trans.__('%1 · %2 until then', text, usd(cost, 2))
          : text}
      </span>
      {props.action}
    </div>
  );
}

/** The public URL of an exposed endpoint, with copy (and the action removing it) above it. */
export function PublicUrl(props: {
  endpoint: Smops.IEndpoint;
  action?: React.ReactNode;
}): JSX.Element | null {
  const trans = useTrans();
  const { endpoint: e } = props;
  if (!e.public_url) {
    return null;
  }
  return (
    <div className="jp-smops-public" data-testid="smops-public-url">
      <div className="jp-smops-row-line">
        <span className="jp-smops-muted">{trans.__('Public URL')}</span>
        <CopyButton text={e.public_url} label={trans.__('Copy the public URL of %1', e.name)} />
        {props.action}
      </div>
      <code className="jp-smops-public-url">{e.public_url}</code>
    </div>
  );
}

/** A small "Copy" button that says "Copied" for a moment. */
export function CopyButton(props: { text: string; label: string }): JSX.Element {
  const trans = useTrans();
  const [copied, setCopied] = React.useState(false);
  React.useEffect(() => {
    if (!copied) {
      return;
    }
    const timer = window.setTimeout(() => setCopied(false), 2000);
    return () => window.clearTimeout(timer);
  }, [copied]);
  return (
    <Button
      small
      minimal
      type="button"
      className="jp-smops-copy"
      aria-label={props.label}
      onClick={() => {
        Clipboard.copyToSystem(props.text);
        setCopied(true);
      }}
    >
      {copied ? trans.__('Copied') : trans.__('Copy')}
    </Button>
  );
}

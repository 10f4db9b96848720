import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { frameworkWarning } from '../compat';
import {
  choiceSeconds,
  clockText,
  deployExpiry,
  expiryPolicy,
  IExpiryChoice,
  initialChoice,
  lifetimeProblem
} from '../expiry';
import { nameProblem as nameRuleProblem, suggestEndpointName, usd } from '../format';
import { SmopsModel } from '../model';
import { ISmopsSettings } from '../settings';
import { TranslationBundle, useTrans } from '../trans';
import { Smops } from '../types';
import { ExpiryField } from './Expiry';
import { SectionHead } from './SectionHead';

/** Pick a version, name the endpoint, choose where it runs and what it costs; deploy. */
export function DeploySection(props: {
  model: SmopsModel;
  actions: SmopsActions;
  settings: ISmopsSettings;
}): JSX.Element {
  const { model, actions, settings } = props;
  const trans = useTrans();
  const status = model.status;
  const awsAvailable = status?.backend === 'aws';
  const version = model.selected ? model.findVersion(model.selected) : undefined;
  const taken = new Set(model.endpoints.map(e => e.name));
  const rules = status?.rules;
  const base = version
    ? suggestEndpointName(version.name, version.version, rules?.names)
    : null;
  const suggested = base ? freeName(base, taken, rules?.names.max_length ?? 63) : '';
  const [name, setName] = React.useState<string | null>(null);
  const [local, setLocal] = React.useState(settings.defaultBackend !== 'aws');
  const [sm, setSm] = React.useState<ISageMakerOptions>({
    instanceType: settings.instanceType || status?.instance_type || 'ml.t2.medium',
    count: 1,
    maxCount: 1,
    serverless: false,
    memory: 2048
  });
  const [busy, setBusy] = React.useState(false);
  // null until the user touches it: the server's default for where the endpoint runs.
  const [expiryChoice, setExpiry] = React.useState<IExpiryChoice | null>(null);

  const isLocal = local || !awsAvailable;
  const endpointName = name ?? suggested;
  const nameProblem = version ? nameRuleProblem(endpointName, rules?.names, trans) : null;
  const warning = version ? frameworkWarning(version, isLocal, rules, trans) : null;
  const policy = expiryPolicy(rules, isLocal);
  const expiry = policy ? (expiryChoice ?? initialChoice(policy)) : null;
  const expiryProblem =
    policy && expiry ? lifetimeProblem(choiceSeconds(expiry), policy, trans) : null;
  // The server refuses (409) such a deploy whatever the panel does; this only says so early.
  const needsApproval =
    !!rules?.approval.required &&
    !(isLocal && rules.approval.local_exempt) &&
    version?.approval_status !== 'Approved';
  const prices = status?.instance_types ?? [];

  const deploy = async () => {
    if (!version) {
      return;
    }
    const request: Smops.IDeployRequest = {
      model: version.name,
      version: version.version,
      name: endpointName,
      local: isLocal
    };
    if (!isLocal) {
      Object.assign(request, sageMakerRequest(sm));
    }
    if (expiry) {
      Object.assign(request, deployExpiry(expiry));
    }
    setBusy(true);
    try {
      await actions.deploy(request);
      // Back to a fresh suggestion, unless the user typed another name meanwhile.
      setName(current => (current === request.name ? null : current));
    } catch {
      // The notification already shows the server's message and its details.
    } finally {
      setBusy(false);
    }
  };

  const versions = model.models.flatMap(m => m.versions.map(v => `${v.name}:${v.version}`));
  return (
    <section className="jp-smops-section" aria-labelledby="jp-smops-deploy">
      <SectionHead id="jp-smops-deploy" title={trans.__('Deploy')} />
      {!version ? (
        <p className="jp-smops-muted">
          {trans.__('Push a model first, then pick a version here.')}
        </p>
      ) : (
        <form
          className="jp-smops-form"
          onSubmit={e => {
            e.preventDefault();
            void deploy();
          }}
        >
          <label>
            {trans.__('Version')}
            <HTMLSelect
              aria-label={trans.__('Model version to deploy')}
              value={model.selected ?? ''}
              onChange={e => {
                model.select(e.currentTarget.value);
                setName(null);
              }}
              options={versions}
            />
          </label>
          <label>
            {trans.__('Endpoint name')}
            <input
              className="jp-mod-styled jp-smops-input"
              aria-label={trans.__('Endpoint name')}
              value={endpointName}
              onChange={e => setName(e.currentTarget.value)}
            />
          </label>
          {nameProblem && <div className="jp-smops-field-error">{nameProblem}</div>}
          <label className="jp-smops-check">
            <input
              type="checkbox"
              checked={isLocal}
              disabled={!awsAvailable}
              onChange={e => setLocal(e.currentTarget.checked)}
            />
            {awsAvailable
              ? trans.__('Local endpoint (this machine)')
              : trans.__('Local endpoint (local backend)')}
          </label>
          {!isLocal && (
            <SageMakerOptions
              value={sm}
              onChange={setSm}
              prices={prices}
              memorySizes={rules?.serverless_memory_mb ?? [sm.memory]}
              priceNote={status?.prices?.note}
            />
          )}
          {policy && expiry && (
            <ExpiryField
              value={expiry}
              onChange={setExpiry}
              policy={policy}
              legend={trans.__('Expiry')}
              problem={expiryProblem}
              note={expiryNote(choiceSeconds(expiry), isLocal, sm, prices, trans)}
            />
          )}
          {warning && (
            <div className="jp-smops-banner jp-smops-warning" role="alert">
              {warning}
            </div>
          )}
          {needsApproval && (
            <div className="jp-smops-banner jp-smops-warning" role="alert">
              {isLocal
                ? trans.__(
                    '%1 is %2; this server requires an Approved version.',
                    `${version.name}:${version.version}`,
                    version.approval_status
                  )
                : trans.__(
                    '%1 is %2; this server (for SageMaker) requires an Approved version.',
                    `${version.name}:${version.version}`,
                    version.approval_status
                  )}{' '}
              <Button
                small
                type="button"
                onClick={() =>
                  void actions.approve(`${version.name}:${version.version}`).catch(() => undefined)
                }
                aria-label={trans.__('Approve %1', `${version.name}:${version.version}`)}
              >
                {trans.__('Approve')}
              </Button>
            </div>
          )}
          <Button
            type="submit"
            className="jp-smops-primary"
            disabled={busy || !!nameProblem || !!needsApproval || !!expiryProblem}
            aria-label={trans.__('Deploy')}
          >
            {busy ? trans.__('Deploying…') : trans.__('Deploy')}
          </Button>
        </form>
      )}
    </section>
  );
}

/** Where and how big a SageMaker endpoint is. */
export interface ISageMakerOptions {
  instanceType: string;
  count: number;
  maxCount: number;
  serverless: boolean;
  memory: ServerlessMemory;
}

type ServerlessMemory = NonNullable<Smops.IDeployRequest['serverless_memory_mb']>;


function sageMakerRequest(sm: ISageMakerOptions): Partial<Smops.IDeployRequest> {
  return sm.serverless
    ? { serverless_memory_mb: sm.memory }
    : {
        instance_type: sm.instanceType,
        count: sm.count,
        max_count: Math.max(sm.count, sm.maxCount)
      };
}

/** Instance type with its price, counts, or serverless memory. */
function SageMakerOptions(props: {
  value: ISageMakerOptions;
  onChange: (value: ISageMakerOptions) => void;
  prices: Smops.IInstancePrice[];
  /** The server's serverless sizes (status.rules). */
  memorySizes: number[];
  priceNote?: string;
}): JSX.Element {
  const trans = useTrans();
  const { value, prices } = props;
  const set = (change: Partial<ISageMakerOptions>) => props.onChange({ ...value, ...change });
  const price = prices.find(p => p.instance_type === value.instanceType)?.hourly_usd;
  return (
    <fieldset className="jp-smops-fieldset">
      <legend>{trans.__('SageMaker')}</legend>
      <label className="jp-smops-check">
        <input
          type="checkbox"
          checked={value.serverless}
          onChange={e => set({ serverless: e.currentTarget.checked })}
        />
        {trans.__('Serverless')}
      </label>
      {value.serverless ? (
        <label>
          {trans.__('Memory (MB)')}
          <HTMLSelect
            aria-label={trans.__('Serverless memory')}
            value={value.memory}
            onChange={e => set({ memory: Number(e.currentTarget.value) as ServerlessMemory })}
            options={props.memorySizes}
          />
        </label>
      ) : (
        <>
          <label>
            {trans.__('Instance type')}
            <HTMLSelect
              aria-label={trans.__('Instance type')}
              value={value.instanceType}
              onChange={e => set({ instanceType: e.currentTarget.value })}
              options={instanceOptions(prices, value.instanceType, trans)}
            />
          </label>
          <div className="jp-smops-muted" aria-live="polite">
            {price !== undefined
              ? trans._n(
                  '%2 per instance-hour, %3/h for %1 instance',
                  '%2 per instance-hour, %3/h for %1 instances',
                  value.count,
                  usd(price),
                  usd(price * value.count)
                )
              : trans.__('No price known for this type.')}
          </div>
          {props.priceNote && (
            <div className="jp-smops-muted jp-smops-price-note">
              {props.priceNote}
            </div>
          )}
          <label>
            {trans.__('Instances')}
            <input
              type="number"
              min={1}
              max={100}
              className="jp-mod-styled jp-smops-input"
              aria-label={trans.__('Instance count')}
              value={value.count}
              onChange={e => set({ count: Math.max(1, Number(e.currentTarget.value)) })}
            />
          </label>
          <label>
            {trans.__('Max instances (autoscaling)')}
            <input
              type="number"
              min={value.count}
              max={100}
              className="jp-mod-styled jp-smops-input"
              aria-label={trans.__('Maximum instance count')}
              value={Math.max(value.count, value.maxCount)}
              onChange={e => set({ maxCount: Number(e.currentTarget.value) })}
            />
          </label>
        </>
      )}
    </fieldset>
  );
}

/**
 * What the chosen expiry means: when the endpoint stops (local) or AWS deletes it, and on a
 * priced SageMaker instance what it costs until then.
 */
function expiryNote(
  seconds: number | null,
  local: boolean,
  sm: ISageMakerOptions,
  prices: Smops.IInstancePrice[],
  trans: TranslationBundle
): string | null {
  if (seconds === null) {
    return local
      ? trans.__('It runs until you delete it (local endpoints cost nothing).')
      : trans.__('It runs, and costs, until you delete it.');
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    return null;
  }
  const at = clockText(Date.now() + seconds * 1000);
  if (local) {
    return trans.__('It stops by itself at about %1.', at);
  }
  const hourly = sm.serverless
    ? undefined
    : prices.find(p => p.instance_type === sm.instanceType)?.hourly_usd;
  return hourly === undefined
    ? trans.__('AWS deletes it at about %1, even with JupyterLab stopped.', at)
    : trans.__(
        'AWS deletes it at about %1, even with JupyterLab stopped: about %2 until then.',
        at,
        usd((hourly * sm.count * seconds) / 3600, 2)
      );
}

/** `base`, or `base-2`, `base-3`... when an endpoint already has that name. */
function freeName(base: string, taken: Set<string>, maxLength: number): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) {
    const suffix = `-${i}`;
    name = `${base.slice(0, maxLength - suffix.length)}${suffix}`;
  }
  return name;
}

function instanceOptions(
  prices: Smops.IInstancePrice[],
  current: string,
  trans: TranslationBundle
): Array<{ value: string; label: string }> {
  const options = prices.map(p => ({
    value: p.instance_type,
    label: trans.__('%1 — %2/h', p.instance_type, usd(p.hourly_usd))
  }));
  return options.some(o => o.value === current)
    ? options
    : [{ value: current, label: current }, ...options];
}

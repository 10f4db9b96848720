import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { frameworkWarning } from '../compat';
import { nameProblem as nameRuleProblem, suggestEndpointName, usd } from '../format';
import { SmopsModel } from '../model';
import { ISmopsSettings } from '../settings';
import { Smops } from '../types';
import { SectionHead } from './SectionHead';

/** Pick a version, name the endpoint, choose where it runs and what it costs; deploy. */
export function DeploySection(props: {
  model: SmopsModel;
  actions: SmopsActions;
  settings: ISmopsSettings;
}): JSX.Element {
  const { model, actions, settings } = props;
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

  const isLocal = local || !awsAvailable;
  const endpointName = name ?? suggested;
  const nameProblem = version ? nameRuleProblem(endpointName, rules?.names) : null;
  const warning = version ? frameworkWarning(version, isLocal, rules) : null;
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
      <SectionHead id="jp-smops-deploy" title="Deploy" />
      {!version ? (
        <p className="jp-smops-muted">Push a model first, then pick a version here.</p>
      ) : (
        <form
          className="jp-smops-form"
          onSubmit={e => {
            e.preventDefault();
            void deploy();
          }}
        >
          <label>
            Version
            <HTMLSelect
              aria-label="Model version to deploy"
              value={model.selected ?? ''}
              onChange={e => {
                model.select(e.currentTarget.value);
                setName(null);
              }}
              options={versions}
            />
          </label>
          <label>
            Endpoint name
            <input
              className="jp-mod-styled jp-smops-input"
              aria-label="Endpoint name"
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
            {awsAvailable ? 'Local endpoint (this machine)' : 'Local endpoint (local backend)'}
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
          {warning && (
            <div className="jp-smops-banner jp-smops-warning" role="alert">
              {warning}
            </div>
          )}
          {needsApproval && (
            <div className="jp-smops-banner jp-smops-warning" role="alert">
              {version.name}:{version.version} is {version.approval_status}; this server
              {isLocal ? ' ' : ' (for SageMaker) '}requires an Approved version.{' '}
              <Button
                small
                type="button"
                onClick={() =>
                  void actions.approve(`${version.name}:${version.version}`).catch(() => undefined)
                }
                aria-label={`Approve ${version.name}:${version.version}`}
              >
                Approve
              </Button>
            </div>
          )}
          <Button
            type="submit"
            className="jp-smops-primary"
            disabled={busy || !!nameProblem || !!needsApproval}
            aria-label="Deploy"
          >
            {busy ? 'Deploying…' : 'Deploy'}
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
  const { value, prices } = props;
  const set = (change: Partial<ISageMakerOptions>) => props.onChange({ ...value, ...change });
  const price = prices.find(p => p.instance_type === value.instanceType)?.hourly_usd;
  return (
    <fieldset className="jp-smops-fieldset">
      <legend>SageMaker</legend>
      <label className="jp-smops-check">
        <input
          type="checkbox"
          checked={value.serverless}
          onChange={e => set({ serverless: e.currentTarget.checked })}
        />
        Serverless
      </label>
      {value.serverless ? (
        <label>
          Memory (MB)
          <HTMLSelect
            aria-label="Serverless memory"
            value={value.memory}
            onChange={e => set({ memory: Number(e.currentTarget.value) as ServerlessMemory })}
            options={props.memorySizes}
          />
        </label>
      ) : (
        <>
          <label>
            Instance type
            <HTMLSelect
              aria-label="Instance type"
              value={value.instanceType}
              onChange={e => set({ instanceType: e.currentTarget.value })}
              options={instanceOptions(prices, value.instanceType)}
            />
          </label>
          <div className="jp-smops-muted" aria-live="polite">
            {price !== undefined
              ? `${usd(price)} per instance-hour, ${usd(price * value.count)}/h for ${value.count}`
              : 'No price known for this type.'}
          </div>
          {props.priceNote && (
            <div className="jp-smops-muted jp-smops-price-note">
              {props.priceNote}
            </div>
          )}
          <label>
            Instances
            <input
              type="number"
              min={1}
              max={100}
              className="jp-mod-styled jp-smops-input"
              aria-label="Instance count"
              value={value.count}
              onChange={e => set({ count: Math.max(1, Number(e.currentTarget.value)) })}
            />
          </label>
          <label>
            Max instances (autoscaling)
            <input
              type="number"
              min={value.count}
              max={100}
              className="jp-mod-styled jp-smops-input"
              aria-label="Maximum instance count"
              value={Math.max(value.count, value.maxCount)}
              onChange={e => set({ maxCount: Number(e.currentTarget.value) })}
            />
          </label>
        </>
      )}
    </fieldset>
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
  current: string
): Array<{ value: string; label: string }> {
  const options = prices.map(p => ({
    value: p.instance_type,
    label: `${p.instance_type} — ${usd(p.hourly_usd)}/h`
  }));
  return options.some(o => o.value === current)
    ? options
    : [{ value: current, label: current }, ...options];
}

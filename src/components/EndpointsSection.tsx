import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { SmopsApiError } from '../api';
import { secondsLeft, tickMs } from '../expiry';
import { usd } from '../format';
import { SmopsModel } from '../model';
import { useTrans } from '../trans';
import { Smops } from '../types';
import { exposeEndpoint, extendEndpoint } from './EndpointDialogs';
import { ExpiryLine, PublicUrl, useTick } from './Expiry';
import { Pager, pageOf } from './Pager';
import { SectionHead } from './SectionHead';

/** Endpoints with live status, cost, time left, public URL, failure reason, logs and delete. */
export function EndpointsSection(props: {
  model: SmopsModel;
  actions: SmopsActions;
}): JSX.Element {
  const { model, actions } = props;
  const trans = useTrans();
  const [page, setPage] = React.useState(0);
  const [visible, current] = pageOf(model.endpoints, page);
  // When each endpoint answer arrived: the time left counts down from the server's own
  // seconds_left, so a browser clock that differs from the server's does not matter.
  const seen = React.useRef(new WeakMap<Smops.IEndpoint, number>());
  const now = Date.now();
  const lefts = visible.map(e => {
    if (!seen.current.has(e)) {
      seen.current.set(e, now);
    }
    return secondsLeft(e, seen.current.get(e)!, now);
  });
  useTick(tickMs(lefts));
  return (
    <section className="jp-smops-section" aria-labelledby="jp-smops-endpoints">
      <SectionHead
        id="jp-smops-endpoints"
        title={trans.__('Endpoints')}
        refresh={{ label: trans.__('Refresh endpoints'), run: () => model.refreshEndpoints() }}
        error={model.endpointsError}
      />
      {!model.endpoints.length && !model.endpointsError && (
        <p className="jp-smops-muted">{trans.__('No endpoints. Deploy a version above.')}</p>
      )}
      <ul className="jp-smops-list" aria-label={trans.__('Endpoints')}>
        {visible.map((e, i) => (
          <EndpointRow key={e.name} endpoint={e} left={lefts[i]} model={model} actions={actions} />
        ))}
      </ul>
      <Pager
        page={current}
        total={model.endpoints.length}
        label={trans.__('endpoints')}
        onPage={setPage}
      />
    </section>
  );
}

export function StatusChip({ status }: { status: string }): JSX.Element {
  const trans = useTrans();
  return (
    <span
      className={`jp-smops-chip jp-smops-chip-${status}`}
      data-status={status}
      aria-label={trans.__('Status %1', status)}
    >
      {status}
    </span>
  );
}

function EndpointRow(props: {
  endpoint: Smops.IEndpoint;
  /** Seconds left now (null: no expiry). */
  left: number | null;
  model: SmopsModel;
  actions: SmopsActions;
}): JSX.Element {
  const { endpoint: e, left, model, actions } = props;
  const trans = useTrans();
  const [logs, setLogs] = React.useState<string | null>(null);
  const showLogs = async () => {
    try {
      setLogs((await model.client.logs(e.name)) || trans.__('(no log lines yet)'));
    } catch (reason) {
      setLogs(SmopsApiError.from(reason).message);
    }
  };
  const local = e.backend === 'local';
  const where =
    e.url ??
    e.instance_type ??
    (e.serverless_memory_mb ? trans.__('serverless %1 MB', e.serverless_memory_mb) : '');
  // Moving the expiry or the public front of an endpoint on its way out makes no sense.
  const settled = e.status === 'InService' || e.status === 'Creating' || e.status === 'Updating';
  // A Failed endpoint never serves again (SageMaker only deletes one; a local one answers 409)
  // and a Deleting one is on its way out: testing or exposing either cannot work, so only
  // their logs (and Delete, for a Failed one) are offered.
  const failed = e.status === 'Failed';
  const serves = !failed && e.status !== 'Deleting';
  return (
    <li className="jp-smops-endpoint" data-endpoint={e.name}>
      <div className="jp-smops-endpoint-head">
        <strong>{e.name}</strong>
        <StatusChip status={e.status} />
      </div>
      <div className="jp-smops-muted">
        {e.model}:{e.version} · {local ? trans.__('local') : trans.__('SageMaker')} {where}
        {e.instance_count && !local ? ` × ${e.instance_count}` : ''}
        {/* A local endpoint's count is its worker processes, not instances. */}
        {e.instance_count && local
          ? ` · ${trans._n('%1 worker', '%1 workers', e.instance_count)}`
          : ''}
      </div>
      {local ? (
        <div className="jp-smops-cost" data-testid="smops-cost">
          {trans.__('$0 · local')}
        </div>
      ) : (
        e.cost_per_hour !== null &&
        e.cost_per_hour !== undefined && (
          <div className="jp-smops-cost" data-testid="smops-cost">
            {trans.__('%1/h · %2 so far', usd(e.cost_per_hour), usd(e.cost_so_far, 2))}
          </div>
        )
      )}
      {!failed && (
        <ExpiryLine
          endpoint={e}
          left={left}
          action={
            <Button
              small
              minimal
              disabled={!settled}
              onClick={() => void extendEndpoint(actions, e, left)}
              aria-label={trans.__('Change the expiry of %1', e.name)}
              title={trans.__('Extend, shorten or remove the expiry')}
            >
              {trans.__('Extend')}
            </Button>
          }
        />
      )}
      <PublicUrl
        endpoint={e}
        action={
          <Button
            small
            minimal
            disabled={e.status === 'Deleting'}
            onClick={() => void actions.unexpose(e.name).catch(() => undefined)}
            aria-label={trans.__('Remove the public URL of %1', e.name)}
          >
            {trans.__('Unexpose')}
          </Button>
        }
      />
      {e.failure_reason && (
        <div className="jp-smops-banner jp-smops-error" role="alert">
          {e.failure_reason}
        </div>
      )}
      <div className="jp-smops-actions">
        {serves && (
          <Button
            small
            minimal
            disabled={e.status !== 'InService'}
            onClick={() => model.selectEndpoint(e.name)}
            aria-label={trans.__('Test %1', e.name)}
          >
            {trans.__('Test')}
          </Button>
        )}
        <Button
          small
          minimal
          onClick={() =>
            actions.openLogs
              ? actions.openLogs(e.name)
              : logs === null
                ? void showLogs()
                : setLogs(null)
          }
          aria-label={
            logs === null ? trans.__('Show logs of %1', e.name) : trans.__('Hide logs of %1', e.name)
          }
          aria-expanded={logs !== null}
        >
          {logs === null ? trans.__('Logs') : trans.__('Hide logs')}
        </Button>
        {!e.public_url && serves && (
          <Button
            small
            minimal
            disabled={e.status !== 'InService'}
            onClick={() => void exposeEndpoint(actions, e)}
            aria-label={trans.__('Expose %1 at a public URL', e.name)}
            title={
              local
                ? trans.__('Shows what SageMaker would get, and the local runtime URL')
                : trans.__('A public HTTPS URL behind an API key (API Gateway)')
            }
          >
            {trans.__('Expose')}
          </Button>
        )}
        <Button
          small
          minimal
          className="jp-smops-danger"
          disabled={e.status === 'Deleting'}
          onClick={() => void actions.deleteEndpoint(e.name).catch(() => undefined)}
          aria-label={trans.__('Delete %1', e.name)}
        >
          {trans.__('Delete')}
        </Button>
      </div>
      {logs !== null && (
        <pre className="jp-smops-logs" aria-label={trans.__('Logs of %1', e.name)} tabIndex={0}>
          {logs}
        </pre>
      )}
    </li>
  );
}

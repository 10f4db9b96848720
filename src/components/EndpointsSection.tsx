import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { SmopsApiError } from '../api';
import { usd } from '../format';
import { SmopsModel } from '../model';
import { Smops } from '../types';
import { Pager, pageOf } from './Pager';
import { SectionHead } from './SectionHead';

/** Endpoints with live status, cost, failure reason, logs and delete. */
export function EndpointsSection(props: {
  model: SmopsModel;
  actions: SmopsActions;
}): JSX.Element {
  const { model, actions } = props;
  const [page, setPage] = React.useState(0);
  const [visible, current] = pageOf(model.endpoints, page);
  return (
    <section className="jp-smops-section" aria-labelledby="jp-smops-endpoints">
      <SectionHead
        id="jp-smops-endpoints"
        title="Endpoints"
        refresh={{ label: 'Refresh endpoints', run: () => model.refreshEndpoints() }}
        error={model.endpointsError}
      />
      {!model.endpoints.length && !model.endpointsError && (
        <p className="jp-smops-muted">No endpoints. Deploy a version above.</p>
      )}
      <ul className="jp-smops-list" aria-label="Endpoints">
        {visible.map(e => (
          <EndpointRow key={e.name} endpoint={e} model={model} actions={actions} />
        ))}
      </ul>
      <Pager
        page={current}
        total={model.endpoints.length}
        label="endpoints"
        onPage={setPage}
      />
    </section>
  );
}

export function StatusChip({ status }: { status: string }): JSX.Element {
  return (
    <span
      className={`jp-smops-chip jp-smops-chip-${status}`}
      data-status={status}
      aria-label={`Status ${status}`}
    >
      {status}
    </span>
  );
}

function EndpointRow(props: {
  endpoint: Smops.IEndpoint;
  model: SmopsModel;
  actions: SmopsActions;
}): JSX.Element {
  const { endpoint: e, model, actions } = props;
  const [logs, setLogs] = React.useState<string | null>(null);
  const showLogs = async () => {
    try {
      setLogs((await model.client.logs(e.name)) || '(no log lines yet)');
    } catch (reason) {
      setLogs(SmopsApiError.from(reason).message);
    }
  };
  const where = e.url ?? e.instance_type ?? (e.serverless_memory_mb ? `serverless ${e.serverless_memory_mb} MB` : '');
  return (
    <li className="jp-smops-endpoint" data-endpoint={e.name}>
      <div className="jp-smops-endpoint-head">
        <strong>{e.name}</strong>
        <StatusChip status={e.status} />
      </div>
      <div className="jp-smops-muted">
        {e.model}:{e.version} · {e.backend === 'local' ? 'local' : 'SageMaker'}{' '}
        {where}
        {e.instance_count && e.backend !== 'local' ? ` × ${e.instance_count}` : ''}
        {/* A local endpoint's count is its worker processes, not instances. */}
        {e.instance_count && e.backend === 'local'
          ? ` · ${e.instance_count} worker${e.instance_count === 1 ? '' : 's'}`
          : ''}
      </div>
      {e.backend === 'local' ? (
        <div className="jp-smops-cost" data-testid="smops-cost">
          $0 · local
        </div>
      ) : (
        e.cost_per_hour !== null &&
        e.cost_per_hour !== undefined && (
          <div className="jp-smops-cost" data-testid="smops-cost">
            {usd(e.cost_per_hour)}/h · {usd(e.cost_so_far, 2)} so far
          </div>
        )
      )}
      {e.failure_reason && (
        <div className="jp-smops-banner jp-smops-error" role="alert">
          {e.failure_reason}
        </div>
      )}
      <div className="jp-smops-actions">
        <Button
          small
          minimal
          disabled={e.status !== 'InService'}
          onClick={() => model.selectEndpoint(e.name)}
          aria-label={`Test ${e.name}`}
        >
          Test
        </Button>
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
          aria-label={`${logs === null ? 'Show' : 'Hide'} logs of ${e.name}`}
          aria-expanded={logs !== null}
        >
          {logs === null ? 'Logs' : 'Hide logs'}
        </Button>
        <Button
          small
          minimal
          className="jp-smops-danger"
          disabled={e.status === 'Deleting'}
          onClick={() => void actions.deleteEndpoint(e.name).catch(() => undefined)}
          aria-label={`Delete ${e.name}`}
        >
          Delete
        </Button>
      </div>
      {logs !== null && (
        <pre className="jp-smops-logs" aria-label={`Logs of ${e.name}`} tabIndex={0}>
          {logs}
        </pre>
      )}
    </li>
  );
}

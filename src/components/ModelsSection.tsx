import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { humanSize, shortDate, shortSha } from '../format';
import { SmopsModel } from '../model';
import { TranslationBundle, useTrans } from '../trans';
import { Smops } from '../types';
import { Pager, pageOf } from './Pager';
import { SectionHead } from './SectionHead';

/** Registry names with their versions (newest first); a version row selects it for deploy. */
export function ModelsSection(props: {
  model: SmopsModel;
  actions: SmopsActions;
  onPush: () => void;
}): JSX.Element {
  const { model } = props;
  const trans = useTrans();
  const [page, setPage] = React.useState(0);
  const rows = React.useMemo(() => flatten(model.models), [model.models]);
  const [visible, current] = pageOf(rows, page);
  return (
    <section className="jp-smops-section" aria-labelledby="jp-smops-models">
      <SectionHead
        id="jp-smops-models"
        title={trans.__('Models')}
        refresh={{ label: trans.__('Refresh models'), run: () => model.refreshModels() }}
        error={model.modelsError}
      >
        <Button
          small
          className="jp-smops-primary"
          onClick={props.onPush}
          aria-label={trans.__('Push a model file')}
        >
          {trans.__('Push…')}
        </Button>
      </SectionHead>
      {!rows.length && !model.modelsError && (
        <p className="jp-smops-muted">
          {trans.__(
            'No models yet. Right-click a .joblib, .pkl or .skops file in the file browser and choose “%1”.',
            trans.__('Push to model registry…')
          )}
        </p>
      )}
      <ul className="jp-smops-list" aria-label={trans.__('Model versions')}>
        {visible.map(row =>
          row.kind === 'name' ? (
            <li key={`n-${row.name}`} className="jp-smops-model-name">
              {row.name}{' '}
              <span className="jp-smops-muted">
                {trans._n('(%1 version)', '(%1 versions)', row.count)}
              </span>
            </li>
          ) : (
            <VersionRow
              key={`v-${row.version.name}:${row.version.version}`}
              version={row.version}
              selected={
                model.selected === `${row.version.name}:${row.version.version}`
              }
              onSelect={ref => model.select(ref)}
              actions={props.actions}
              twin={row.twin}
            />
          )
        )}
      </ul>
      <Pager page={current} total={rows.length} label={trans.__('models')} onPage={setPage} />
    </section>
  );
}

function VersionRow(props: {
  version: Smops.IModelVersion;
  selected: boolean;
  onSelect: (ref: string) => void;
  actions: SmopsActions;
  /** The oldest other version with the same sha256, if any. */
  twin?: number;
}): JSX.Element {
  const trans = useTrans();
  const v = props.version;
  const ref = `${v.name}:${v.version}`;
  const [busy, setBusy] = React.useState(false);
  const decide = (verb: 'approve' | 'reject') => {
    setBusy(true);
    // The notification shows a failure; the list reloads with the new status.
    void props.actions[verb](ref)
      .catch(() => undefined)
      .finally(() => setBusy(false));
  };
  return (
    <li className="jp-smops-version">
      <button
        className={`jp-smops-row${props.selected ? ' jp-mod-selected' : ''}`}
        aria-pressed={props.selected}
        aria-label={trans.__('Select %1 for deploy', ref)}
        data-ref={ref}
        onClick={() => props.onSelect(ref)}
      >
        <span className="jp-smops-ref">{trans.__('v%1', v.version)}</span>
        <span>{humanSize(v.size)}</span>
        <code title={v.sha256}>{shortSha(v.sha256)}</code>
        <span title={trans.__('scikit-learn version it was trained with')}>
          {trans.__('sklearn %1', v.framework_version ?? '?')}
        </span>
        <span
          className={`jp-smops-approval jp-smops-approval-${v.approval_status}`}
          title={trans.__('Approval: %1', v.approval_status)}
        >
          {approvalLabel(v.approval_status, trans)}
        </span>
        <span className="jp-smops-muted">{shortDate(v.created_at)}</span>
        {props.twin !== undefined && (
          <span
            className="jp-smops-twin"
            title={trans.__('Same sha256: the same model file and code')}
          >
            {trans.__('identical to v%1', props.twin)}
          </span>
        )}
      </button>
      <span className="jp-smops-version-actions">
        {v.approval_status !== 'Approved' && (
          <Button
            small
            minimal
            disabled={busy}
            onClick={() => decide('approve')}
            aria-label={trans.__('Approve %1', ref)}
            title={trans.__('Approve %1', ref)}
          >
            {trans.__('Approve')}
          </Button>
        )}
        {v.approval_status !== 'Rejected' && (
          <Button
            small
            minimal
            className="jp-smops-danger"
            disabled={busy}
            onClick={() => decide('reject')}
            aria-label={trans.__('Reject %1', ref)}
            title={trans.__('Reject %1', ref)}
          >
            {trans.__('Reject')}
          </Button>
        )}
      </span>
    </li>
  );
}

/** An approval status in words (the registry's value stays in the title). */
function approvalLabel(status: Smops.ApprovalStatus, trans: TranslationBundle): string {
  switch (status) {
    case 'Approved':
      return trans.__('Approved');
    case 'Rejected':
      return trans.__('Rejected');
    default:
      return trans.__('Pending');
  }
}

type Row =
  | { kind: 'name'; name: string; count: number }
  | { kind: 'version'; version: Smops.IModelVersion; twin?: number };

function flatten(models: Smops.IModel[]): Row[] {
  const rows: Row[] = [];
  for (const m of models) {
    rows.push({ kind: 'name', name: m.name, count: m.versions.length });
    const first = new Map<string, number>();
    for (const v of m.versions) {
      if (v.sha256 && !first.has(v.sha256)) {
        first.set(v.sha256, v.version);
      }
    }
    for (let i = m.versions.length - 1; i >= 0; i--) {
      const v = m.versions[i];
      const oldest = first.get(v.sha256);
      const twin = oldest !== undefined && oldest !== v.version ? oldest : undefined;
      rows.push({ kind: 'version', version: v, twin });
    }
  }
  return rows;
}

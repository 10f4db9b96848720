import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { SmopsModel } from '../model';
import { ISmopsSettings } from '../settings';
import { useTrans } from '../trans';
import { CleanupSection } from './CleanupSection';
import { DeploySection } from './DeploySection';
import { EndpointsSection } from './EndpointsSection';
import { Header } from './Header';
import { InferenceSection } from './InferenceSection';
import { ModelsSection } from './ModelsSection';
import { useModel } from './useModel';

export interface IPanelProps {
  model: SmopsModel;
  actions: SmopsActions;
  settings: ISmopsSettings;
  onPush: () => void;
}

/** The whole sidebar: header, then the workflow top to bottom. */
export function SmopsPanelView(props: IPanelProps): JSX.Element {
  const model = useModel(props.model);
  const trans = useTrans();
  const ready = model.status !== null && model.statusError === null;
  return (
    <div className="jp-smops-panel">
      <div className="jp-smops-title">
        <h2>{trans.__('SageMaker MLOps')}</h2>
        <div
          className="jp-smops-title-toolbar"
          role="toolbar"
          aria-label={trans.__('SageMaker MLOps')}
        >
          {ready && (
            <button
              className="jp-smops-icon-button"
              onClick={() => void Promise.all([model.refreshModels(), model.refreshEndpoints()])}
              aria-label={trans.__('Refresh models and endpoints')}
              title={trans.__('Refresh models and endpoints')}
            >
              <refreshIcon.react tag="span" />
            </button>
          )}
        </div>
      </div>
      <Header model={model} settings={props.settings} />
      {ready && (
        <>
          <ModelsSection model={model} actions={props.actions} onPush={props.onPush} />
          <DeploySection model={model} actions={props.actions} settings={props.settings} />
          <EndpointsSection model={model} actions={props.actions} />
          <InferenceSection model={model} />
          <CleanupSection actions={props.actions} />
        </>
      )}
    </div>
  );
}

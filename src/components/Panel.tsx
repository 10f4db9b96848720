import * as React from 'react';

import { SmopsActions } from '../actions';
import { SmopsModel } from '../model';
import { ISmopsSettings } from '../settings';
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
  const ready = model.status !== null && model.statusError === null;
  return (
    <div className="jp-smops-panel">
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

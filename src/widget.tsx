import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { SmopsActions } from './actions';
import { SmopsPanelView } from './components/Panel';
import { SmopsModel } from './model';
import { DEFAULT_SETTINGS, ISmopsSettings } from './settings';
import { nullTrans, TransContext, TranslationBundle } from './trans';
import { FRONTEND_VERSION } from './version';

/**
 * The left-sidebar widget. It tells the model when it is shown or hidden, so the endpoint
 * poll stands by while nobody looks.
 */
export class SmopsPanel extends ReactWidget {
  constructor(options: SmopsPanel.IOptions) {
    super();
    this.model = options.model;
    this.actions = options.actions;
    this._onPush = options.onPush;
    this.trans = options.trans ?? nullTrans;
    this.id = 'jp-smops-panel';
    this.addClass('jp-smops-widget');
  }

  readonly model: SmopsModel;
  readonly actions: SmopsActions;
  readonly trans: TranslationBundle;

  get settings(): ISmopsSettings {
    return this._settings;
  }

  set settings(value: ISmopsSettings) {
    this._settings = value;
    this.update();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setVisible(true);
    // The server was unreachable at start (or restarted since): try again when looked at.
    if (this.model.statusError) {
      void this.model
        .checkServer(FRONTEND_VERSION)
        .then(ok => (ok ? this.model.load() : undefined));
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setVisible(false);
  }

  dispose(): void {
    this.model.setVisible(false);
    super.dispose();
  }

  render(): JSX.Element {
    return (
      <TransContext.Provider value={this.trans}>
        <SmopsPanelView
          model={this.model}
          actions={this.actions}
          settings={this._settings}
          onPush={this._onPush}
        />
      </TransContext.Provider>
    );
  }

  private _settings: ISmopsSettings = DEFAULT_SETTINGS;
  private _onPush: () => void;
}

export namespace SmopsPanel {
  export interface IOptions {
    model: SmopsModel;
    actions: SmopsActions;
    /** JupyterLab's bundle for this extension; English when not given. */
    trans?: TranslationBundle;
    onPush: () => void;
  }
}

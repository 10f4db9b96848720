import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { SmopsActions } from './actions';
import { SmopsClient } from './api';
import { addCommands, CommandIDs } from './commands';
import { smopsIcon } from './icons';
import { SmopsModel } from './model';
import { DEFAULT_SETTINGS, ISmopsSettings, readSettings } from './settings';
import { TRANS_DOMAIN } from './trans';
import { FRONTEND_VERSION } from './version';
import { SmopsPanel } from './widget';

export { CommandIDs } from './commands';

const PLUGIN_ID = 'jupyter-smops:plugin';

/**
 * The SageMaker MLOps sidebar, its commands and file-browser actions. Services (API client,
 * model, actions) are built here once and handed to the components.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'SageMaker MLOps panel, commands and file-browser actions.',
  autoStart: true,
  optional: [ICommandPalette, IFileBrowserFactory, ISettingRegistry, ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    browsers: IFileBrowserFactory | null,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ) => {
    // Every user-facing string goes through this bundle (English without a language pack).
    const trans = (translator ?? nullTranslator).load(TRANS_DOMAIN);
    const client = new SmopsClient({ serverSettings: app.serviceManager.serverSettings, trans });
    const model = new SmopsModel(client);
    let settings: ISmopsSettings = DEFAULT_SETTINGS;
    const actions = new SmopsActions(model, () => app.shell.activateById(panel.id), trans);
    const panel = new SmopsPanel({
      model,
      actions,
      trans,
      onPush: () => void app.commands.execute(CommandIDs.push)
    });
    panel.title.icon = smopsIcon;
    panel.title.caption = trans.__('SageMaker MLOps');
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'jupyter-smops');

    actions.openLogs = name => void app.commands.execute(CommandIDs.logs, { name });
    addCommands(app, {
      panel,
      actions,
      settings: () => settings,
      browsers,
      palette,
      trans
    });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const apply = () => {
            settings = readSettings(loaded);
            panel.settings = settings;
          };
          apply();
          loaded.changed.connect(apply);
        })
        .catch(reason => console.warn('jupyter-smops: settings not loaded', reason));
    }

    // The server check is not awaited: JupyterLab's start never waits on our server.
    void model.checkServer(FRONTEND_VERSION).then(ok => {
      if (ok) {
        return model.load();
      }
      console.warn(`jupyter-smops: ${model.statusError?.message}`);
    });
    console.log('jupyter-smops is activated');
  }
};

export default plugin;

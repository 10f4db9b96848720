import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * Placeholder activation until the panel lands: proves the extension loads.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-smops:plugin',
  description: 'SageMaker MLOps panel, commands and file-browser actions.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    console.log('jupyter-smops is activated');
  }
};

export default plugin;

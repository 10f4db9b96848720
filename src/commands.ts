import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { Contents } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { SmopsActions } from './actions';
import { exposeEndpoint, extendEndpoint } from './components/EndpointDialogs';
import { smopsIcon } from './icons';
import { logsWidget } from './logsWidget';
import { IPushChoice, PushDialogBody } from './pushDialog';
import { ISmopsSettings } from './settings';
import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';
import { FRONTEND_VERSION } from './version';
import { SmopsPanel } from './widget';

export namespace CommandIDs {
  export const openPanel = 'smops:open-panel';
  export const refresh = 'smops:refresh';
  export const checkServer = 'smops:check-server';
  export const push = 'smops:push';
  export const validate = 'smops:validate-package';
  export const deploy = 'smops:deploy';
  export const test = 'smops:test-endpoint';
  export const logs = 'smops:show-logs';
  export const deleteEndpoint = 'smops:delete-endpoint';
  export const cleanup = 'smops:cleanup';
  export const approve = 'smops:approve';
  export const reject = 'smops:reject';
  export const extend = 'smops:extend-endpoint';
  export const expose = 'smops:expose-endpoint';
  export const unexpose = 'smops:unexpose-endpoint';
}

const CATEGORY = 'SageMaker MLOps';
const MODEL_FILE = /\.(pkl|pickle|joblib|skops)$/i;
/** What the panel's Push… takes from the file browser's selection (a built archive too). */
const PUSHABLE = /\.(pkl|pickle|joblib|skops|tar\.gz)$/i;
const PACKAGE_FILE = /(^|\/)model\.tar\.gz$/i;

export interface ICommandDeps {
  panel: SmopsPanel;
  actions: SmopsActions;
  settings: () => ISmopsSettings;
  browsers: IFileBrowserFactory | null;
  palette: ICommandPalette | null;
  /** JupyterLab's bundle for this extension; English when not given. */
  trans?: TranslationBundle;
}

/** What every group of commands needs. */
interface IContext {
  app: JupyterFrontEnd;
  commands: JupyterFrontEnd['commands'];
  actions: SmopsActions;
  model: SmopsActions['model'];
  deps: ICommandDeps;
  show: () => void;
  selectedPath: (test: RegExp) => string | null;
  trans: TranslationBundle;
}

/** Registers every action as a command, in the palette and (for files) the file browser. */
export function addCommands(app: JupyterFrontEnd, deps: ICommandDeps): void {
  const { commands } = app;
  const ctx: IContext = {
    app,
    commands,
    actions: deps.actions,
    model: deps.actions.model,
    deps,
    show: () => app.shell.activateById(deps.panel.id),
    selectedPath: (test: RegExp): string | null => {
      const item = deps.browsers?.tracker.currentWidget?.selectedItems().next();
      const path = item && !item.done ? item.value.path : null;
      return path && test.test(path) ? path : null;
    },
    trans: deps.trans ?? nullTrans
  };
  addPanelCommands(ctx);
  addFileCommands(ctx);
  addModelCommands(ctx);
  addEndpointCommands(ctx);
  addFrontCommands(ctx);

  for (const command of Object.values(CommandIDs)) {
    deps.palette?.addItem({ command, category: ctx.trans.__(CATEGORY) });
  }
  // Our own group in the file browser's menu, set off by separators from its "New" items.
  const selector = '.jp-DirListing-item[data-isdir="false"]';
  app.contextMenu.addItem({ type: 'separator', selector, rank: 59 });
  app.contextMenu.addItem({
    command: CommandIDs.push,
    args: { fromBrowser: true },
    selector,
    rank: 60
  });
  app.contextMenu.addItem({
    command: CommandIDs.validate,
    args: { fromBrowser: true },
    selector,
    rank: 61
  });
  app.contextMenu.addItem({ type: 'separator', selector, rank: 62 });
}

function addPanelCommands(ctx: IContext): void {
  const { commands, actions, model, show, trans } = ctx;
  commands.addCommand(CommandIDs.openPanel, {
    label: trans.__('Open SageMaker MLOps Panel'),
    icon: smopsIcon,
    execute: show
  });

  commands.addCommand(CommandIDs.refresh, {
    label: trans.__('Refresh Models and Endpoints'),
    execute: () => Promise.all([model.refreshModels(), model.refreshEndpoints()])
  });

  commands.addCommand(CommandIDs.checkServer, {
    label: trans.__('Check the SageMaker MLOps Server Extension'),
    execute: async () => {
      const ok = await model.checkServer(FRONTEND_VERSION);
      if (!ok) {
        actions.report(trans.__('SageMaker MLOps server extension'), model.statusError);
      } else if (model.versionMismatch) {
        actions.report(trans.__('Version mismatch'), model.versionMismatch);
      }
      return ok;
    }
  });
}

function addFileCommands(ctx: IContext): void {
  const { app, commands, actions, show, selectedPath, trans } = ctx;
  commands.addCommand(CommandIDs.push, {
    label: args =>
      args.path || args.fromBrowser
        ? trans.__('Push to model registry…')
        : trans.__('Push a Model File to the Registry…'),
    caption: trans.__('Package, validate and store a model file as a new registry version'),
    icon: args => (args.path || selectedPath(MODEL_FILE) ? smopsIcon : undefined),
    isVisible: args => !!(args.path || selectedPath(MODEL_FILE) || !args.fromBrowser),
    execute: async args => {
      let path =
        (args.path as string) || (args.fromBrowser ? selectedPath(MODEL_FILE) : selectedPath(PUSHABLE));
      if (!path) {
        const answer = await InputDialog.getText({
          title: trans.__('Push a model file'),
          label: trans.__('Path of a .joblib, .pkl or .skops file (relative to the server root)'),
          placeholder: 'iris.joblib',
          okLabel: trans.__('OK'),
          cancelLabel: trans.__('Cancel')
        });
        path = answer.value?.trim() || null;
      }
      if (!path) {
        return;
      }
      const choice = await Private.askPush(app, path, ctx.model.models.map(m => m.name), trans);
      if (!choice) {
        return;
      }
      show();
      return actions.push({ path, ...choice }).catch(() => undefined);
    }
  });

  commands.addCommand(CommandIDs.validate, {
    label: args =>
      args.path || args.fromBrowser
        ? trans.__('Validate SageMaker package')
        : trans.__('Validate a model.tar.gz…'),
    caption: trans.__('Check that a model.tar.gz would load and serve on SageMaker'),
    isVisible: args => !!(args.path || selectedPath(PACKAGE_FILE) || !args.fromBrowser),
    execute: async args => {
      let path = (args.path as string) || (args.fromBrowser ? selectedPath(PACKAGE_FILE) : null);
      if (!path) {
        const answer = await InputDialog.getText({
          title: trans.__('Validate a SageMaker package'),
          label: trans.__('Path of a model.tar.gz (relative to the server root)'),
          placeholder: 'model.tar.gz',
          okLabel: trans.__('OK'),
          cancelLabel: trans.__('Cancel')
        });
        path = answer.value?.trim() || null;
      }
      return path ? actions.validate(path).catch(() => undefined) : undefined;
    }
  });
}

function addModelCommands(ctx: IContext): void {
  const { commands, actions, model, deps, show, trans } = ctx;
  commands.addCommand(CommandIDs.deploy, {
    label: trans.__('Deploy the Selected Model Version'),
    caption: trans.__(
      'Deploy (args: model, version, name, local, instance_type, ...) or the panel selection'
    ),
    execute: async args => {
      const request = Private.deployRequest(args, model.selected, deps.settings());
      if (!request) {
        show();
        actions.report(
          trans.__('Deploy'),
          trans.__('Push a model and select a version in the panel first.')
        );
        return;
      }
      show();
      return actions.deploy(request).catch(() => undefined);
    }
  });

  commands.addCommand(CommandIDs.approve, {
    label: trans.__('Approve the Selected Model Version'),
    caption: trans.__(
      'Mark a version Approved (args: ref "name:version", else the panel selection)'
    ),
    isEnabled: args => !!(args.ref || model.selected),
    execute: async args => {
      const ref = (args.ref as string) || model.selected;
      return ref ? actions.approve(ref).catch(() => undefined) : undefined;
    }
  });

  commands.addCommand(CommandIDs.reject, {
    label: trans.__('Reject the Selected Model Version'),
    caption: trans.__(
      'Mark a version Rejected (args: ref "name:version", else the panel selection)'
    ),
    isEnabled: args => !!(args.ref || model.selected),
    execute: async args => {
      const ref = (args.ref as string) || model.selected;
      return ref ? actions.reject(ref).catch(() => undefined) : undefined;
    }
  });

  commands.addCommand(CommandIDs.test, {
    label: trans.__('Test an Endpoint'),
    execute: async args => {
      const name =
        (args.name as string) ||
        (await Private.pickEndpoint(model.endpoints, trans.__('Test which endpoint?'), trans));
      if (name) {
        model.selectEndpoint(name);
        show();
      }
    }
  });
}

function addEndpointCommands(ctx: IContext): void {
  const { commands, actions, model, trans } = ctx;
  commands.addCommand(CommandIDs.logs, {
    label: trans.__('Show Endpoint Logs'),
    execute: async args => {
      const name =
        (args.name as string) ||
        (await Private.pickEndpoint(model.endpoints, trans.__('Logs of which endpoint?'), trans));
      if (!name) {
        return;
      }
      // One tab per endpoint: opening again brings the existing one forward.
      const id = `jp-smops-logs-${name}`;
      const open = Array.from(ctx.app.shell.widgets('main')).find(w => w.id === id);
      if (open) {
        ctx.app.shell.activateById(id);
        return;
      }
      const widget = logsWidget(model.client, name, trans);
      ctx.app.shell.add(widget, 'main', { mode: 'split-bottom' });
      ctx.app.shell.activateById(widget.id);
    }
  });

  commands.addCommand(CommandIDs.deleteEndpoint, {
    label: trans.__('Delete an Endpoint…'),
    execute: async args => {
      const name =
        (args.name as string) ||
        (await Private.pickEndpoint(model.endpoints, trans.__('Delete which endpoint?'), trans));
      return name ? actions.deleteEndpoint(name).catch(() => false) : false;
    }
  });

  commands.addCommand(CommandIDs.cleanup, {
    label: trans.__('Clean Up Endpoints…'),
    caption: trans.__('List what would be deleted, then delete it after you confirm'),
    execute: async () => {
      const plan = await actions.cleanup(true).catch(() => null);
      if (!plan) {
        return;
      }
      const items = [...plan.endpoints, ...plan.endpoint_configs, ...plan.models];
      if (!items.length) {
        await showDialog({
          title: trans.__('Clean up'),
          body: trans.__('Nothing to clean up.'),
          buttons: [Dialog.okButton({ label: trans.__('OK') })]
        });
        return;
      }
      const answer = await showDialog({
        title: trans.__('Clean up'),
        body: Private.pre(`${trans.__('Delete:')}\n${items.join('\n')}`),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Delete all') })
        ]
      });
      if (answer.button.accept) {
        return actions.cleanup(false).catch(() => undefined);
      }
    }
  });
}

/** An endpoint's expiry and public front (the rows' Extend / Expose / Unexpose). */
function addFrontCommands(ctx: IContext): void {
  const { commands, actions, model, trans } = ctx;
  const pick = async (name: unknown, endpoints: Smops.IEndpoint[], title: string) => {
    const picked = (name as string) || (await Private.pickEndpoint(endpoints, title, trans));
    return model.endpoints.find(e => e.name === picked) ?? null;
  };
  commands.addCommand(CommandIDs.extend, {
    label: trans.__('Change the Expiry of an Endpoint…'),
    execute: async args => {
      const e = await pick(args.name, model.endpoints, trans.__('Change the expiry of which endpoint?'));
      return e ? extendEndpoint(actions, e) : false;
    }
  });
  commands.addCommand(CommandIDs.expose, {
    label: trans.__('Expose an Endpoint at a Public URL…'),
    execute: async args => {
      const ready = model.endpoints.filter(e => e.status === 'InService' && !e.public_url);
      const e = await pick(args.name, ready, trans.__('Expose which endpoint?'));
      return e ? exposeEndpoint(actions, e) : false;
    }
  });
  commands.addCommand(CommandIDs.unexpose, {
    label: trans.__('Remove the Public URL of an Endpoint…'),
    execute: async args => {
      const exposed = model.endpoints.filter(e => e.public_url);
      const e = await pick(args.name, exposed, trans.__('Remove the public URL of which endpoint?'));
      return e ? actions.unexpose(e.name).catch(() => false) : false;
    }
  });
}

namespace Private {
  export async function askPush(
    app: JupyterFrontEnd,
    path: string,
    names: string[],
    trans: TranslationBundle
  ): Promise<IPushChoice | null> {
    const dir = PathExt.dirname(path);
    let files: Contents.IModel[] = [];
    try {
      const listing = await app.serviceManager.contents.get(dir, { content: true });
      files = (listing.content as Contents.IModel[]).filter(item => item.type === 'file');
    } catch {
      // No listing: push with the generated inference.py and no requirements.
    }
    const named = (ext: string) => files.filter(f => f.name.endsWith(ext)).map(f => f.path);
    const body = new PushDialogBody(path, named('.py'), named('.txt'), names, trans);
    const answer = await showDialog<IPushChoice>({
      title: trans.__('Push %1 to the model registry', PathExt.basename(path)),
      body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Push') })
      ],
      focusNodeSelector: 'input'
    });
    return answer.button.accept ? answer.value : null;
  }

  export function deployRequest(
    args: Record<string, unknown>,
    selected: string | null,
    settings: ISmopsSettings
  ): Smops.IDeployRequest | null {
    const ref = (args.model as string) ?? selected;
    if (!ref) {
      return null;
    }
    const at = ref.lastIndexOf(':');
    const modelName = at > 0 && !args.model ? ref.slice(0, at) : ref;
    const version = (args.version as number) ?? (at > 0 && !args.model ? Number(ref.slice(at + 1)) : undefined);
    return {
      model: modelName,
      version,
      // No name: the server picks its default (`status.rules.names.endpoint_default`).
      ...(args.name ? { name: args.name as string } : {}),
      local: (args.local as boolean) ?? settings.defaultBackend !== 'aws',
      ...(args.instance_type ? { instance_type: args.instance_type as string } : {})
    };
  }

  export async function pickEndpoint(
    endpoints: Smops.IEndpoint[],
    title: string,
    trans: TranslationBundle
  ): Promise<string | null> {
    if (!endpoints.length) {
      await showDialog({
        title,
        body: trans.__('There are no endpoints.'),
        buttons: [Dialog.okButton({ label: trans.__('OK') })]
      });
      return null;
    }
    const answer = await InputDialog.getItem({
      title,
      items: endpoints.map(e => e.name),
      okLabel: trans.__('OK'),
      cancelLabel: trans.__('Cancel')
    });
    return answer.button.accept ? answer.value : null;
  }

  export function pre(text: string): Widget {
    const node = document.createElement('pre');
    node.className = 'jp-smops-details';
    node.textContent = text;
    return new Widget({ node });
  }
}

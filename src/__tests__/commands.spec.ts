import { CommandRegistry } from '@lumino/commands';

import { SmopsActions } from '../actions';
import { addCommands, CommandIDs } from '../commands';
import { SmopsModel } from '../model';
import { DEFAULT_SETTINGS } from '../settings';
import { SmopsPanel } from '../widget';
import { mockActions, mockClient } from './fixtures';

function setup(selected: string | null) {
  const commands = new CommandRegistry();
  const contextItems: { command?: string; type?: string; selector: string; rank?: number }[] = [];
  const app = {
    commands,
    shell: { activateById: jest.fn() },
    contextMenu: { addItem: (item: { command?: string; selector: string }) => contextItems.push(item) },
    serviceManager: {}
  };
  const browsers = {
    tracker: {
      currentWidget: {
        selectedItems: () => (selected ? [{ path: selected }] : [])[Symbol.iterator]()
      }
    }
  };
  const paletteItems: string[] = [];
  const palette = { addItem: (item: { command: string }) => paletteItems.push(item.command) };
  const model = new SmopsModel(mockClient());
  const actions = mockActions(model);
  addCommands(app as any, {
    panel: { id: 'jp-smops-panel' } as SmopsPanel,
    actions: actions as unknown as SmopsActions,
    settings: () => DEFAULT_SETTINGS,
    browsers: browsers as any,
    palette: palette as any
  });
  return { commands, contextItems, paletteItems, actions, model, app };
}

describe('commands', () => {
  it('puts every action in the palette and two in the file browser menu', () => {
    const { commands, paletteItems, contextItems, model } = setup(null);
    const ids = Object.values(CommandIDs);
    expect(ids.length).toBeGreaterThanOrEqual(10);
    for (const id of ids) {
      expect(commands.hasCommand(id)).toBe(true);
    }
    expect(paletteItems.sort()).toEqual([...ids].sort());
    // Their own group: a separator before and after.
    expect(contextItems.map(i => i.command ?? i.type)).toEqual(['separator', CommandIDs.push, CommandIDs.validate, 'separator']);
    model.dispose();
  });

  it.each([
    ['work/iris.joblib', true, false],
    ['iris-model.pkl', true, false],
    ['model.skops', true, false],
    ['out/model.tar.gz', false, true],
    ['notes.txt', false, false]
  ])('for %s shows push=%s and validate=%s in the file browser', (path, push, validate) => {
    const { commands, model } = setup(path);
    expect(commands.isVisible(CommandIDs.push, { fromBrowser: true })).toBe(push);
    expect(commands.isVisible(CommandIDs.validate, { fromBrowser: true })).toBe(validate);
    expect(commands.label(CommandIDs.push, { fromBrowser: true })).toBe('Push to model registry…');
    model.dispose();
  });

  it("deploys the panel selection locally, leaving the endpoint's default name to the server", async () => {
    const { commands, actions, model, app } = setup(null);
    model.selected = 'iris:3';
    await commands.execute(CommandIDs.deploy);
    expect(actions.deploy).toHaveBeenCalledWith({ model: 'iris', version: 3, local: true });
    expect(app.shell.activateById).toHaveBeenCalledWith('jp-smops-panel');
    await commands.execute(CommandIDs.deploy, { model: 'wine', version: 1, local: false, instance_type: 'ml.m5.large' });
    expect(actions.deploy).toHaveBeenLastCalledWith({
      model: 'wine',
      version: 1,
      local: false,
      instance_type: 'ml.m5.large'
    });
    model.dispose();
  });
});

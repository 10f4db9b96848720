import { Widget } from '@lumino/widgets';

import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';

/** What the user chose in the push dialog. */
export interface IPushChoice {
  name: string;
  inference?: string;
  requirements?: string;
  sample?: unknown;
}

/** A registry name from a file name: `iris-model.joblib` → `iris-model`. */
export function nameFromPath(path: string): string {
  const base = path.split('/').pop() ?? path;
  const stem = base.replace(/\.(pkl|pickle|joblib|skops)$/i, '');
  const name = stem.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return name.slice(0, 63) || 'model';
}

/**
 * The name a push starts with: the existing model the file's stem names (whatever its case:
 * the registry treats iris and Iris as one name), else the stem. Other existing names are
 * offered in the field's list, never guessed: a wrong guess would version another model.
 */
export function defaultName(path: string, names: string[]): string {
  const stem = nameFromPath(path);
  const same = names.find(n => n.toLowerCase() === stem.toLowerCase());
  if (same) {
    return same;
  }
  return stem;
}

/**
 * The body of "Push to model registry…": a name, an optional inference.py from the same
 * folder, and an optional sample input (JSON) used for validation and the test editor.
 */
export class PushDialogBody extends Widget implements Smops.IDialogBody<IPushChoice> {
  constructor(
    path: string,
    scripts: string[],
    requirements: string[] = [],
    names: string[] = [],
    private readonly _trans: TranslationBundle = nullTrans
  ) {
    super();
    const trans = _trans;
    this.addClass('jp-smops-push-dialog');
    const form = document.createElement('div');
    form.className = 'jp-smops-form';
    this._name = Private.input(form, trans.__('Registry name'), defaultName(path, names));
    // Existing models are offered (a new version of one), any new name is still allowed.
    const list = document.createElement('datalist');
    list.id = `jp-smops-model-names-${Private.nextId++}`;
    for (const name of names) {
      const option = document.createElement('option');
      option.value = name;
      list.appendChild(option);
    }
    form.appendChild(list);
    this._name.setAttribute('list', list.id);
    this._name.setAttribute('autocomplete', 'off');
    this._inference = document.createElement('select');
    this._inference.className = 'jp-mod-styled';
    this._inference.setAttribute('aria-label', trans.__('Inference script'));
    for (const [value, label] of [
      ['', trans.__('Generated inference.py (default handlers)')],
      ...scripts.map(s => [s, s])
    ]) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = label;
      this._inference.appendChild(option);
    }
    const defaultScript = scripts.find(s => s.endsWith('inference.py'));
    this._inference.value = defaultScript ?? '';
    Private.labelled(form, trans.__('Inference script (same folder)'), this._inference);
    this._requirements = Private.select(
      trans.__('Requirements file'),
      [['', trans.__('None')], ...requirements.map(r => [r, r])],
      requirements.find(r => r.endsWith('requirements.txt')) ?? ''
    );
    Private.labelled(form, trans.__('Requirements file (same folder)'), this._requirements);
    this._sample = Private.input(
      form,
      trans.__('Sample input (JSON, optional)'),
      '',
      '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
    );
    this.node.appendChild(form);
  }

  getValue(): IPushChoice {
    const choice: IPushChoice = { name: this._name.value.trim() };
    if (this._inference.value) {
      choice.inference = this._inference.value;
    }
    if (this._requirements.value) {
      choice.requirements = this._requirements.value;
    }
    const sample = this._sample.value.trim();
    if (sample) {
      try {
        choice.sample = JSON.parse(sample);
      } catch {
        throw new Error(
          this._trans.__(
            'The sample input is not valid JSON, e.g. %1.',
            '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
          )
        );
      }
    }
    return choice;
  }

  private _name: HTMLInputElement;
  private _inference: HTMLSelectElement;
  private _requirements: HTMLSelectElement;
  private _sample: HTMLInputElement;
}

namespace Private {
  export let nextId = 0;

  export function select(label: string, options: string[][], value: string): HTMLSelectElement {
    const node = document.createElement('select');
    node.className = 'jp-mod-styled';
    node.setAttribute('aria-label', label);
    for (const [v, text] of options) {
      const option = document.createElement('option');
      option.value = v;
      option.textContent = text;
      node.appendChild(option);
    }
    node.value = value;
    return node;
  }

  export function labelled(parent: HTMLElement, text: string, control: HTMLElement): void {
    const label = document.createElement('label');
    label.textContent = text;
    label.appendChild(control);
    parent.appendChild(label);
  }

  export function input(
    parent: HTMLElement,
    text: string,
    value: string,
    placeholder = ''
  ): HTMLInputElement {
    const input = document.createElement('input');
    input.className = 'jp-mod-styled';
    input.value = value;
    input.placeholder = placeholder;
    input.setAttribute('aria-label', text);
    labelled(parent, text, input);
    return input;
  }
}

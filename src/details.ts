import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { humanSize, shortSha } from './format';
import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';

/**
 * JupyterLab's toasts cut any message past 140 characters mid-word (notification-extension's
 * MAX_MESSAGE_LENGTH), so a toast is built to fit: whole sentences, the rest behind "Details".
 */
export const TOAST_MAX = 140;

/**
 * The sentences of a server message. A sentence ends at ". ", "! " or "? " before a capital,
 * a digit, a quote, a backtick or a bracket, or at a line break; "1.7.2", "model.tar.gz" and
 * "e.g." never end one.
 */
export function sentences(message: string): string[] {
  const out: string[] = [];
  for (const line of message.split(/\n+/)) {
    let start = 0;
    const end = /[.!?](?=\s+[A-Z0-9`"'([<])/g;
    let match: RegExpExecArray | null;
    while ((match = end.exec(line))) {
      const before = line.slice(Math.max(0, match.index - 4), match.index + 1);
      if (/(^|\W)(e\.g|i\.e|vs)\.$/i.test(before)) {
        continue;
      }
      out.push(line.slice(start, match.index + 1).trim());
      start = match.index + 1;
    }
    const rest = line.slice(start).trim();
    if (rest) {
      out.push(rest);
    }
  }
  return out.filter(s => s.length > 0);
}

/**
 * A sentence too long for a toast, cut at its last clause boundary (";", ":", ",", " (" or a
 * dash) that fits, else at a word, with "…": Details still shows it whole.
 */
function clause(sentence: string, max: number): string {
  const room = sentence.slice(0, max - 1);
  let cut = -1;
  for (const mark of ['; ', ': ', ', ', ' (', ' — ', ' - ']) {
    cut = Math.max(cut, room.lastIndexOf(mark));
  }
  if (cut < max / 3) {
    cut = room.lastIndexOf(' ');
  }
  return (cut > 0 ? room.slice(0, cut) : room).replace(/[\s,;:]+$/, '') + '…';
}

/**
 * An error toast's text, at most TOAST_MAX characters: "<title>: " and as many whole leading
 * sentences of the server's message as fit. When not even the first fits after the title,
 * the first sentence alone (the key one: the server's messages name what failed); only a
 * first sentence longer than a toast is cut, at a clause.
 */
export function toastText(
  title: string,
  message: string,
  trans: TranslationBundle = nullTrans
): string {
  const parts = sentences(message);
  if (!parts.length) {
    return title.slice(0, TOAST_MAX);
  }
  for (let n = parts.length; n > 0; n--) {
    const text = trans.__('%1: %2', title, parts.slice(0, n).join(' '));
    if (text.length <= TOAST_MAX) {
      return text;
    }
  }
  return parts[0].length <= TOAST_MAX ? parts[0] : clause(parts[0], TOAST_MAX);
}

/** One validation check as the server sends it (`severity` is moot when `ok`). */
type Check = Smops.IPackageResult['checks'][number];

/** What a check came to, in words: ok, warning or error (never "error" for a passing one). */
export function checkStatus(check: Check, trans: TranslationBundle = nullTrans): string {
  if (check.ok) {
    return trans.__('ok');
  }
  return check.severity === 'warning' ? trans.__('warning') : trans.__('error');
}

/** What a Details dialog shows: a title, the facts, the full message and the checks. */
export interface IDetails {
  /** e.g. "InvalidArtifact · HTTP 422" or the package's path. */
  heading?: string;
  message?: string;
  /** What to do next, when the server sends it apart from the message. */
  hint?: string;
  checks?: Check[];
  /** Other facts as label/value pairs (values are data, shown as they are). */
  facts?: [string, string][];
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** The Details dialog's body: readable text and a check list, no raw JSON. */
export function detailsNode(details: IDetails, trans: TranslationBundle = nullTrans): HTMLElement {
  const root = element('div', 'jp-smops-error-details');
  if (details.heading) {
    root.appendChild(element('p', 'jp-smops-details-heading', details.heading));
  }
  for (const paragraph of (details.message ?? '').split(/\n+/).filter(Boolean)) {
    root.appendChild(element('p', 'jp-smops-details-message', paragraph));
  }
  if (details.hint) {
    const hint = element('p', 'jp-smops-details-hint');
    hint.append(element('strong', '', trans.__('What to do:')), ' ', details.hint);
    root.appendChild(hint);
  }
  if (details.checks?.length) {
    root.appendChild(element('h3', 'jp-smops-details-title', trans.__('Checks')));
    const list = element('ul', 'jp-smops-checks');
    list.setAttribute('aria-label', trans.__('Checks'));
    for (const check of details.checks) {
      const state = check.ok ? 'ok' : check.severity === 'warning' ? 'warning' : 'error';
      const item = element('li', `jp-smops-check jp-smops-check-${state}`);
      item.append(
        element('span', 'jp-smops-check-status', checkStatus(check, trans)),
        ' ',
        element('strong', 'jp-smops-check-name', check.name)
      );
      if (check.message) {
        item.append(' ', element('span', 'jp-smops-check-message', check.message));
      }
      list.appendChild(item);
    }
    root.appendChild(list);
  }
  if (details.facts?.length) {
    const facts = element('dl', 'jp-smops-details-facts');
    for (const [label, value] of details.facts) {
      facts.append(element('dt', '', label), element('dd', '', value));
    }
    root.appendChild(facts);
  }
  return root;
}

/** What an API error's Details dialog shows: its code, message, hint, checks and other facts. */
export function errorDetails(
  error: { code: string; message: string; status: number; details?: unknown },
  trans: TranslationBundle = nullTrans
): IDetails {
  const raw =
    error.details && typeof error.details === 'object'
      ? (error.details as Record<string, unknown>)
      : {};
  // Known keys get a label; any other the server adds is shown under its own key.
  const labels: Record<string, string> = {
    original_status: trans.__("The model's HTTP status"),
    log_stream: trans.__('Log stream')
  };
  const facts: [string, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'checks' || key === 'hint' || value === null || value === undefined) {
      continue;
    }
    facts.push([labels[key] ?? key, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  return {
    heading: error.status
      ? trans.__('%1 · HTTP %2', error.code, error.status)
      : error.code,
    message: error.message,
    hint: typeof raw.hint === 'string' ? raw.hint : undefined,
    checks: Array.isArray(raw.checks) ? (raw.checks as Check[]) : undefined,
    facts
  };
}

/** What a validated package's Details dialog shows. */
export function packageDetails(
  result: Smops.IPackageResult,
  trans: TranslationBundle = nullTrans
): IDetails {
  const facts: [string, string][] = [
    [trans.__('Size'), humanSize(result.size)],
    [trans.__('sha256'), shortSha(result.sha256)],
    [trans.__('Model file'), result.model_file],
    [
      trans.__('scikit-learn'),
      result.serving_version
        ? trans.__('%1 → image %2', result.framework_version ?? '?', result.serving_version)
        : trans.__('%1 → no serving image', result.framework_version ?? '?')
    ]
  ];
  return { heading: result.path, checks: result.checks, facts };
}

/** A notification action opening the Details dialog. */
export function detailsAction(
  title: string,
  details: IDetails,
  trans: TranslationBundle = nullTrans
): { label: string; caption: string; callback: () => void } {
  return {
    label: trans.__('Details'),
    caption: trans.__('Show the full message from the server'),
    callback: () => void showDetails(title, details, trans)
  };
}

/** Shows a Details dialog (the error's title, then its readable body). */
export function showDetails(
  title: string,
  details: IDetails,
  trans: TranslationBundle = nullTrans
): Promise<Dialog.IResult<unknown>> {
  return showDialog({
    title,
    body: new Widget({ node: detailsNode(details, trans) }),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
}

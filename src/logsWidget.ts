import { MainAreaWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { SmopsApiError, SmopsClient } from './api';
import { smopsIcon } from './icons';

/** Lines fetched per poll: the route's tail (the newest lines). */
const TAIL = 1000;
const INTERVAL_MS = 2000;

/**
 * An endpoint's log in the main area, following new lines: a lumino Poll reads the newest
 * TAIL lines every two seconds (backing off on errors, standing by while the tab is hidden),
 * and the view stays at the bottom unless the user scrolled up to read.
 */
export class EndpointLogsView extends Widget {
  constructor(
    private readonly _client: SmopsClient,
    readonly endpoint: string
  ) {
    super();
    this.addClass('jp-smops-logs-view');
    this._status = document.createElement('div');
    this._status.className = 'jp-smops-muted jp-smops-logs-status';
    this._pre = document.createElement('pre');
    this._pre.className = 'jp-smops-logs-main';
    this._pre.tabIndex = 0;
    this._pre.setAttribute('aria-label', `Logs of ${endpoint}`);
    this._pre.setAttribute('aria-live', 'off');
    this.node.append(this._status, this._pre);
    this._poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: INTERVAL_MS, backoff: true, max: 30 * 1000 },
      standby: 'when-hidden',
      name: `smops:logs:${endpoint}`
    });
  }

  /** Reads the newest lines and shows them; re-throws so the poll backs off. */
  async refresh(): Promise<void> {
    let text: string;
    try {
      text = await this._client.logs(this.endpoint, TAIL);
    } catch (reason) {
      const error = SmopsApiError.from(reason);
      if (error.status === 404) {
        // Deleted (from anywhere): nothing more will come.
        this._status.textContent = `${this.endpoint} no longer exists; these were its last lines.`;
        this._poll.dispose();
        return;
      }
      this._status.textContent = error.message;
      throw error;
    }
    const atBottom =
      this._pre.scrollHeight - this._pre.scrollTop - this._pre.clientHeight < 24;
    if (text !== this._pre.textContent) {
      this._pre.textContent = text || '(no log lines yet)';
      if (atBottom) {
        this._pre.scrollTop = this._pre.scrollHeight;
      }
    }
    this._status.textContent = `Following the last ${TAIL} lines · updated ${new Date().toLocaleTimeString()}`;
  }

  get poll(): Poll {
    return this._poll;
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  private _poll: Poll;
  private _pre: HTMLPreElement;
  private _status: HTMLDivElement;
}

/** The logs of `endpoint` as a main-area tab. */
export function logsWidget(client: SmopsClient, endpoint: string): MainAreaWidget<EndpointLogsView> {
  const content = new EndpointLogsView(client, endpoint);
  const widget = new MainAreaWidget({ content });
  widget.id = `jp-smops-logs-${endpoint}`;
  widget.title.label = `Logs: ${endpoint}`;
  widget.title.icon = smopsIcon;
  widget.title.closable = true;
  return widget;
}

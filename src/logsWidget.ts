import { MainAreaWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { SmopsApiError, SmopsClient } from './api';
import { smopsIcon } from './icons';
import { nullTrans, TranslationBundle } from './trans';

/** Lines asked for per poll: the tail at first, then at most this many new ones. */
const TAIL = 1000;
const INTERVAL_MS = 2000;
/** Lines the view keeps; older ones are dropped as new ones arrive. */
const MAX_LINES = 5000;

/**
 * An endpoint's log in the main area, following new lines: the first poll reads the newest
 * lines, every later one passes the server's `next_since` cursor back and appends only what was
 * written since. A lumino Poll runs it every two seconds, backing off on errors and standing by
 * while the tab is hidden; the view keeps the last `maxLines` lines and stays at the bottom
 * unless the user scrolled up to read.
 */
export class EndpointLogsView extends Widget {
  constructor(
    private readonly _client: SmopsClient,
    readonly endpoint: string,
    options: EndpointLogsView.IOptions = {}
  ) {
    super();
    this._trans = options.trans ?? nullTrans;
    this._maxLines = options.maxLines ?? MAX_LINES;
    this.addClass('jp-smops-logs-view');
    this._status = document.createElement('div');
    this._status.className = 'jp-smops-muted jp-smops-logs-status';
    this._pre = document.createElement('pre');
    this._pre.className = 'jp-smops-logs-main';
    this._pre.tabIndex = 0;
    this._pre.setAttribute('aria-label', this._trans.__('Logs of %1', endpoint));
    this._pre.setAttribute('aria-live', 'off');
    this.node.append(this._status, this._pre);
    this._poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: options.interval ?? INTERVAL_MS, backoff: true, max: 30 * 1000 },
      standby: 'when-hidden',
      name: `smops:logs:${endpoint}`
    });
  }

  /** Fetches the lines written since the last answer and appends them; re-throws so the poll backs off. */
  async refresh(): Promise<void> {
    const trans = this._trans;
    let page;
    try {
      page = await this._client.logsPage(this.endpoint, { tail: TAIL, since: this._cursor });
    } catch (reason) {
      const error = SmopsApiError.from(reason);
      if (error.status === 404) {
        // Deleted (from anywhere): nothing more will come.
        this._status.textContent = trans.__('%1 no longer exists; these were its last lines.', this.endpoint);
        this._poll.dispose();
        return;
      }
      this._status.textContent = error.message;
      throw error;
    }
    const fresh = page.logs ? page.logs.split('\n') : [];
    if (page.truncated && this._cursor !== null) {
      fresh.unshift(trans.__('… more lines were written than one read takes; the older of them are not shown'));
    }
    this._cursor = page.next_since;
    this._append(fresh);
    this._status.textContent = trans._n(
      'Following new lines · %1 line shown · updated %2',
      'Following new lines · %1 lines shown · updated %2',
      this._lines.length,
      new Date().toLocaleTimeString()
    );
  }

  /** The lines shown, oldest first. */
  get lines(): readonly string[] {
    return this._lines;
  }

  get poll(): Poll {
    return this._poll;
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  private _append(fresh: string[]): void {
    const atBottom =
      this._pre.scrollHeight - this._pre.scrollTop - this._pre.clientHeight < 24;
    if (!fresh.length) {
      if (!this._lines.length) {
        this._pre.textContent = this._trans.__('(no log lines yet)');
      }
      return;
    }
    const first = !this._lines.length;
    this._lines.push(...fresh);
    if (this._lines.length > this._maxLines) {
      this._lines.splice(0, this._lines.length - this._maxLines);
      this._pre.textContent = this._lines.join('\n');
    } else if (first) {
      this._pre.textContent = this._lines.join('\n');
    } else {
      // Only the new text goes into the DOM: a long log is not re-rendered every poll.
      this._pre.append(document.createTextNode('\n' + fresh.join('\n')));
    }
    if (atBottom) {
      this._pre.scrollTop = this._pre.scrollHeight;
    }
  }

  private _cursor: string | null = null;
  private _lines: string[] = [];
  private _maxLines: number;
  private _poll: Poll;
  private _pre: HTMLPreElement;
  private _status: HTMLDivElement;
  private _trans: TranslationBundle;
}

export namespace EndpointLogsView {
  export interface IOptions {
    /** The extension's translation bundle (English when not given). */
    trans?: TranslationBundle;
    /** Lines kept in the view (default 5000). */
    maxLines?: number;
    /** Milliseconds between polls (default 2000). */
    interval?: number;
  }
}

/** The logs of `endpoint` as a main-area tab. */
export function logsWidget(
  client: SmopsClient,
  endpoint: string,
  trans: TranslationBundle = nullTrans
): MainAreaWidget<EndpointLogsView> {
  const content = new EndpointLogsView(client, endpoint, { trans });
  const widget = new MainAreaWidget({ content });
  widget.id = `jp-smops-logs-${endpoint}`;
  widget.title.label = trans.__('Logs: %1', endpoint);
  widget.title.icon = smopsIcon;
  widget.title.closable = true;
  return widget;
}

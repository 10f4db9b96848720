import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { SmopsApiError, SmopsClient } from './api';
import { nullTrans } from './trans';
import { Smops } from './types';

/** Statuses that change by themselves: the panel polls faster while any endpoint has one. */
const TRANSITIONAL = new Set(['Creating', 'Deleting', 'Updating']);
const FAST_MS = 2000;
const SLOW_MS = 15000;
const MAX_MS = 60000;
/** The change stamp's poll: cheap (a few stat calls on the server), so every few seconds. */
const CHANGES_MS = 3000;
/** Lists the stamp does not cover (S3 registry) are reloaded this often while visible. */
const UNCOVERED_MODELS_MS = 30000;
/** Latencies kept for the chart. */
const MAX_INVOCATIONS = 50;

/**
 * The panel's state: status, models, endpoints and the requests sent so far. Built once by
 * the plugin; components read it and re-render on `changed`. Endpoints refresh through a
 * lumino Poll that is fast while something is Creating/Deleting, slow otherwise, backs off
 * on errors and stands by while the panel is hidden.
 */
export class SmopsModel {
  constructor(readonly client: SmopsClient) {
    this._poll = new Poll({
      factory: () => this.refreshEndpoints(true),
      frequency: { interval: SLOW_MS, backoff: true, max: MAX_MS },
      standby: () => (this._visible ? 'when-hidden' : true),
      name: 'smops:endpoints',
      auto: false
    });
    this._changesPoll = new Poll({
      factory: () => this.checkChanges(),
      frequency: { interval: CHANGES_MS, backoff: true, max: MAX_MS },
      standby: () => (this._visible ? 'when-hidden' : true),
      name: 'smops:changes',
      auto: false
    });
  }

  get changed(): ISignal<SmopsModel, void> {
    return this._changed;
  }

  status: Smops.IStatus | null = null;
  /** Why the server extension cannot be used (not answering, version mismatch). */
  statusError: SmopsApiError | null = null;
  /** Whether frontend and server versions differ (the panel still works, with a warning). */
  versionMismatch: string | null = null;
  models: Smops.IModel[] = [];
  modelsError: SmopsApiError | null = null;
  endpoints: Smops.IEndpoint[] = [];
  endpointsError: SmopsApiError | null = null;
  invocations: Smops.IInvocation[] = [];
  /** The version picked for deploy, as "name:version". */
  selected: string | null = null;
  /** The endpoint picked for test inference. */
  selectedEndpoint: string | null = null;
  loaded = false;

  get poll(): Poll {
    return this._poll;
  }

  /** Checks the server extension answers and speaks this frontend's version. */
  async checkServer(frontendVersion: string): Promise<boolean> {
    try {
      this.status = await this.client.status();
      this.statusError = null;
      this.versionMismatch =
        this.status.version && this.status.version !== frontendVersion
          ? (this.client.trans ?? nullTrans).__(
              'The panel is version %1 but the server extension is %2. Reinstall jupyter_smops and restart JupyterLab so both match.',
              frontendVersion,
              this.status.version
            )
          : null;
    } catch (reason) {
      this.status = null;
      this.statusError = SmopsApiError.from(reason);
    }
    this._changed.emit();
    return this.statusError === null;
  }

  async refreshModels(): Promise<void> {
    try {
      this._modelsAt = Date.now();
      this.models = await this.client.models();
      this.modelsError = null;
      if (this.selected && !this.findVersion(this.selected)) {
        this.selected = null;
      }
      if (!this.selected) {
        const first = this.models.find(m => m.versions.length);
        const latest = first?.versions[first.versions.length - 1];
        this.selected = latest ? `${latest.name}:${latest.version}` : null;
      }
    } catch (reason) {
      this.modelsError = SmopsApiError.from(reason);
    }
    this._changed.emit();
  }

  /**
   * Reloads endpoints; from the poll, errors are re-thrown so the poll backs off.
   */
  async refreshEndpoints(fromPoll = false): Promise<void> {
    try {
      this.endpoints = await this.client.endpoints();
      this.endpointsError = null;
      const names = new Set(this.endpoints.map(e => e.name));
      if (this.selectedEndpoint && !names.has(this.selectedEndpoint)) {
        this.selectedEndpoint = null;
      }
      if (!this.selectedEndpoint) {
        const ready = this.endpoints.find(e => e.status === 'InService');
        this.selectedEndpoint = ready?.name ?? null;
      }
      this.tunePoll();
    } catch (reason) {
      this.endpointsError = SmopsApiError.from(reason);
      this._changed.emit();
      if (fromPoll) {
        throw this.endpointsError;
      }
      return;
    }
    this._changed.emit();
  }

  /** Loads everything once the server answered; starts the endpoint and change polls. */
  async load(): Promise<void> {
    // The stamp the lists are at, read before them: the change poll stands by while the panel
    // is hidden, and a first stamp read only once it is shown had nothing to compare with, so
    // a push or cleanup made in between left Models stale until the next change (issue 14).
    this._stamp = await this.client.changes().then(
      c => c.stamp,
      () => null
    );
    await Promise.all([this.refreshModels(), this.refreshEndpoints()]);
    this.loaded = true;
    this._changed.emit();
    void this._poll.start();
    void this._changesPoll.start();
  }

  /**
   * Reloads models and endpoints when the server's change stamp moved (a push, approval,
   * deploy or delete from a notebook, the CLI or another tab); models the stamp does not
   * cover (an S3 registry) are reloaded every UNCOVERED_MODELS_MS instead. Errors re-thrown
   * so the poll backs off.
   */
  async checkChanges(): Promise<void> {
    const changes = await this.client.changes();
    const previous = this._stamp;
    this._stamp = changes.stamp;
    const now = Date.now();
    const moved = previous !== null && previous !== changes.stamp;
    const stale =
      !changes.covers.includes('registry') && now - this._modelsAt > UNCOVERED_MODELS_MS;
    const work: Promise<void>[] = [];
    if (moved || stale) {
      work.push(this.refreshModels());
    }
    if (moved) {
      work.push(this.refreshEndpoints());
    }
    await Promise.all(work);
  }

  /** Polls fast while an endpoint is on its way somewhere (and right after a deploy). */
  expectChange(): void {
    this._poll.frequency = { interval: FAST_MS, backoff: true, max: MAX_MS };
    void this._poll.refresh();
  }

  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible && this.loaded) {
      void this._poll.refresh();
      void this._changesPoll.refresh();
    }
  }

  select(ref: string | null): void {
    this.selected = ref;
    this._changed.emit();
  }

  selectEndpoint(name: string | null): void {
    this.selectedEndpoint = name;
    this._changed.emit();
  }

  findVersion(ref: string): Smops.IModelVersion | undefined {
    const [name, version] = Private.splitRef(ref);
    return this.models
      .find(m => m.name === name)
      ?.versions.find(v => v.version === version);
  }

  /** The version an endpoint serves, for its sample input. */
  versionOf(endpoint: Smops.IEndpoint): Smops.IModelVersion | undefined {
    return this.findVersion(`${endpoint.model}:${endpoint.version}`);
  }

  addInvocation(invocation: Smops.IInvocation): void {
    this.invocations = [...this.invocations, invocation].slice(-MAX_INVOCATIONS);
    this._changed.emit();
  }

  dispose(): void {
    this._poll.dispose();
    this._changesPoll.dispose();
    Signal.clearData(this);
  }

  private tunePoll(): void {
    const busy = this.endpoints.some(e => TRANSITIONAL.has(e.status));
    const interval = busy ? FAST_MS : SLOW_MS;
    if (this._poll.frequency.interval !== interval) {
      this._poll.frequency = { interval, backoff: true, max: MAX_MS };
    }
  }

  private _changed = new Signal<SmopsModel, void>(this);
  private _poll: Poll;
  private _changesPoll: Poll;
  private _stamp: string | null = null;
  private _modelsAt = 0;
  private _visible = false;
}

namespace Private {
  export function splitRef(ref: string): [string, number] {
    const at = ref.lastIndexOf(':');
    return [ref.slice(0, at), Number(ref.slice(at + 1))];
  }
}

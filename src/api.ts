import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { Poll } from '@lumino/polling';

import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';

/**
 * The one error type of the frontend: the server's `{"error": {code, message}}` (or a
 * network failure) with the HTTP status. `message` always says what to do next.
 */
export class SmopsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 0,
    readonly details?: unknown
  ) {
    super(message);
    this.name = 'SmopsApiError';
  }

  /** Any thrown value as a SmopsApiError, so callers handle one type. */
  static from(reason: unknown): SmopsApiError {
    if (reason instanceof SmopsApiError) {
      return reason;
    }
    const message = reason instanceof Error ? reason.message : String(reason);
    return new SmopsApiError('ClientError', message);
  }

  /** Text for a "details" dialog: code, status and whatever details the server gave. */
  describe(): string {
    const lines = [
      this.status ? `${this.code} (HTTP ${this.status})` : this.code,
      this.message
    ];
    if (this.details !== undefined) {
      lines.push(JSON.stringify(this.details, null, 2));
    }
    return lines.join('\n\n');
  }
}

/** What a request sent to an endpoint gave back. */
export interface IInvokeResponse {
  status: number;
  body: string;
  contentType: string;
  latencyMs: number;
}

/** Progress of a job as the UI shows it. */
export type JobProgress = (job: Smops.IJob) => void;

const API = 'smops/api';

/**
 * Client of the jupyter_smops REST API (`/smops/api/...`). Built once by the plugin and
 * passed to the components; it holds no UI state.
 */
export class SmopsClient {
  constructor(options: SmopsClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._jobInterval = options.jobInterval ?? 500;
    this.trans = options.trans ?? nullTrans;
  }

  readonly serverSettings: ServerConnection.ISettings;
  /** The bundle the client's own error texts (no server, bad answers) are translated with. */
  readonly trans: TranslationBundle;

  status(): Promise<Smops.IStatus> {
    return this.json('status');
  }

  async models(): Promise<Smops.IModel[]> {
    return (await this.json<Smops.IModelList>('models')).models;
  }

  /** Starts a push; the job's result is the new ModelVersion. */
  push(request: Smops.IPushRequest): Promise<Smops.IPushAccepted> {
    return this.json('models', { method: 'POST', body: request });
  }

  /** Approves or rejects one version (what `require approval` deployments check). */
  setApproval(
    name: string,
    version: number,
    status: Smops.ApprovalStatus
  ): Promise<Smops.IModelVersion> {
    const body: Smops.IApprovalRequest = { status };
    return this.json(
      `models/${encodeURIComponent(name)}/versions/${version}/approval`,
      { method: 'POST', body }
    );
  }

  /** Builds and validates (or validates an existing model.tar.gz). */
  package(request: Smops.IPackageRequest): Promise<Smops.IPackageResult> {
    return this.json('packages', { method: 'POST', body: request });
  }

  /** A stamp that changes when models or local endpoints change (cheap: the panel polls it). */
  changes(): Promise<Smops.IChanges> {
    return this.json('changes');
  }

  async endpoints(): Promise<Smops.IEndpoint[]> {
    return (await this.json<Smops.IEndpointList>('endpoints')).endpoints;
  }

  /** Starts a deploy; the answer names the endpoint (the server's default when none was given). */
  deploy(request: Smops.IDeployRequest): Promise<Smops.IDeployAccepted> {
    return this.json('endpoints', { method: 'POST', body: request });
  }

  /** Deletes an endpoint, its config and model; answers a job or nothing. */
  deleteEndpoint(name: string): Promise<Smops.IEndpointJobAccepted | null> {
    return this.json(`endpoints/${encodeURIComponent(name)}`, {
      method: 'DELETE'
    });
  }

  /** Moves an endpoint's expiry (exactly one of `by`, `expires_in`, `no_expiry`); the endpoint as it is now. */
  extendEndpoint(name: string, request: Smops.IExtendRequest): Promise<Smops.IEndpoint> {
    return this.json(`endpoints/${encodeURIComponent(name)}/expiry`, {
      method: 'POST',
      body: request
    });
  }

  /**
   * Puts a public front before a SageMaker endpoint (its API key's value is in this answer
   * only); for a local endpoint, what it would create and the local runtime URL.
   */
  expose(name: string, request: Smops.IExposeRequest = {}): Promise<Smops.IPublicFront> {
    return this.json(`endpoints/${encodeURIComponent(name)}/public`, {
      method: 'POST',
      body: request
    });
  }

  /** Removes an endpoint's public front (its URL and key stop working). */
  unexpose(name: string): Promise<Smops.IUnexposeResult> {
    return this.json(`endpoints/${encodeURIComponent(name)}/public`, { method: 'DELETE' });
  }

  /**
   * One answer of a followed log: the newest `tail` lines, or with `since` (a duration, a time
   * or the `next_since` of an earlier answer) only the lines written after it.
   */
  logsPage(
    name: string,
    options: { tail?: number; since?: string | null } = {}
  ): Promise<Smops.IEndpointLogs> {
    const query = new URLSearchParams();
    if (options.tail) {
      query.set('tail', String(options.tail));
    }
    if (options.since) {
      query.set('since', options.since);
    }
    const search = query.toString();
    return this.json(`endpoints/${encodeURIComponent(name)}/logs${search ? `?${search}` : ''}`);
  }

  /** The endpoint's newest `tail` log lines (the server's default when not given). */
  async logs(name: string, tail?: number): Promise<string> {
    const query = tail ? `?tail=${tail}` : '';
    const body = await this.json<Smops.IEndpointLogs>(
      `endpoints/${encodeURIComponent(name)}/logs${query}`
    );
    return body.logs;
  }

  /** Cleanup, synchronous or as a job depending on the server; both give a CleanupResult. */
  async cleanup(dryRun: boolean): Promise<Smops.ICleanupResult> {
    const request: Smops.ICleanupRequest = { dry_run: dryRun };
    const body = await this.json<Smops.ICleanupResult | Smops.IJobAccepted>(
      'cleanup',
      { method: 'POST', body: request }
    );
    if ('job' in body && body.job) {
      const job = await this.waitForJob(body.job);
      return job.result as Smops.ICleanupResult;
    }
    return body as Smops.ICleanupResult;
  }

  job(id: string): Promise<Smops.IJob> {
    return this.json(`jobs/${encodeURIComponent(id)}`);
  }

  /**
   * Sends a body to an endpoint like InvokeEndpoint. A model error (424) or any other error
   * rejects with SmopsApiError; success gives the model's body, content type and latency.
   */
  async invoke(
    name: string,
    body: string,
    contentType = 'application/json'
  ): Promise<IInvokeResponse> {
    const url = this.url(`endpoints/${encodeURIComponent(name)}/invocations`);
    const start = performance.now();
    const response = await this.fetch(url, {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType, Accept: 'application/json' }
    });
    const text = await response.text();
    const latencyMs = performance.now() - start;
    if (!response.ok) {
      throw Private.errorFrom(response.status, text, this.trans);
    }
    return {
      status: response.status,
      body: text,
      contentType: response.headers.get('Content-Type') ?? '',
      latencyMs
    };
  }

  /**
   * Resolves with the finished job (rejects with its error when it failed), polling with a
   * lumino Poll that backs off; `onProgress` sees every state the server reports.
   */
  waitForJob(job: Smops.IJob, onProgress?: JobProgress): Promise<Smops.IJob> {
    if (job.state !== 'running') {
      return Private.settle(job, this.trans);
    }
    return new Promise<Smops.IJob>((resolve, reject) => {
      const poll = new Poll<Smops.IJob, SmopsApiError>({
        factory: async () => this.job(job.id),
        frequency: {
          interval: this._jobInterval,
          backoff: true,
          max: 10 * 1000
        },
        standby: 'never',
        name: `smops:job:${job.id}`
      });
      poll.ticked.connect((_, tick) => {
        if (tick.phase === 'resolved' && tick.payload) {
          const current = tick.payload as Smops.IJob;
          onProgress?.(current);
          if (current.state !== 'running') {
            poll.dispose();
            Private.settle(current, this.trans).then(resolve, reject);
          }
        } else if (tick.phase === 'rejected') {
          const error = tick.payload as unknown as SmopsApiError;
          // A job the server forgot (restart) never finishes: stop and say so.
          if (error?.status === 404) {
            poll.dispose();
            reject(error);
          }
        }
      });
    });
  }

  private url(path: string): string {
    return URLExt.join(this.serverSettings.baseUrl, API, path);
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await ServerConnection.makeRequest(url, init, this.serverSettings);
    } catch (reason) {
      throw new SmopsApiError(
        'NetworkError',
        this.trans.__('Cannot reach the Jupyter server (%1). Check that it is running.', String(reason))
      );
    }
  }

  private async json<T>(
    path: string,
    options: { method?: string; body?: unknown } = {}
  ): Promise<T> {
    const init: RequestInit = { method: options.method ?? 'GET' };
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await this.fetch(this.url(path), init);
    const text = await response.text();
    if (!response.ok) {
      throw Private.errorFrom(response.status, text, this.trans);
    }
    if (!text) {
      return null as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SmopsApiError(
        'BadResponse',
        this.trans.__(
          'The server answered %1 with something that is not JSON; is the jupyter_smops server extension enabled?',
          path
        ),
        response.status
      );
    }
  }

  private _jobInterval: number;
}

export namespace SmopsClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between job polls before backing off. */
    jobInterval?: number;
    /** JupyterLab's bundle for this extension (English when not given). */
    trans?: TranslationBundle;
  }
}

namespace Private {
  export function errorFrom(
    status: number,
    text: string,
    trans: TranslationBundle
  ): SmopsApiError {
    let body: { error?: Smops.IErrorBody; message?: string } | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (body?.error?.message) {
      const { code, message, details } = body.error;
      return new SmopsApiError(code || 'Error', message, status, details);
    }
    if (status === 404) {
      return new SmopsApiError(
        'NotFound',
        trans.__(
          'The jupyter_smops server extension did not answer (404). Is it installed and enabled? Run `%1` and restart JupyterLab.',
          'jupyter server extension list'
        ),
        status
      );
    }
    return new SmopsApiError(
      'HTTPError',
      body?.message || trans.__('The server answered HTTP %1.', status),
      status
    );
  }

  export function settle(job: Smops.IJob, trans: TranslationBundle): Promise<Smops.IJob> {
    if (job.state === 'failed') {
      const error = job.error ?? {
        code: 'JobFailed',
        message: trans.__('The %1 failed.', job.kind)
      };
      return Promise.reject(
        new SmopsApiError(error.code, error.message, 0, error.details)
      );
    }
    return Promise.resolve(job);
  }
}

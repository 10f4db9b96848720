import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';

import { SmopsApiError } from './api';
import { detailsAction, errorDetails, packageDetails, toastText } from './details';
import { clockText } from './expiry';
import { SmopsModel } from './model';
import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';

/**
 * The long operations (push, deploy, delete, cleanup, validate) with their user feedback:
 * progress through JupyterLab's Notification API with an action back to the panel, and
 * errors with the server's message and a "Details" action. Commands and the panel both call
 * these, so feedback is the same wherever an action starts.
 */
export class SmopsActions {
  constructor(
    readonly model: SmopsModel,
    private readonly _openPanel: () => void,
    readonly trans: TranslationBundle = nullTrans
  ) {}

  /** Opens an endpoint's log in the main area (set by the plugin; the panel shows it inline without). */
  openLogs: ((endpoint: string) => void) | null = null;

  /** Pushes a model file under the server root; resolves with the new version. */
  async push(request: Smops.IPushRequest): Promise<Smops.IModelVersion> {
    const trans = this.trans;
    const id = this.progress(trans.__('Pushing %1 as %2…', request.path, request.name));
    try {
      const { job } = await this.model.client.push(request);
      const done = await this.model.client.waitForJob(job, j =>
        this.updateProgress(id, trans.__('Pushing %1', request.name), j)
      );
      const version = done.result as Smops.IModelVersion;
      await this.model.refreshModels();
      this.model.select(`${version.name}:${version.version}`);
      const twins = identicalVersions(this.model.models, version);
      if (twins.length) {
        // Not an error: the user decides whether a second copy is what they wanted.
        Notification.update({
          id,
          message: trans.__(
            'Pushed %1; it is identical to %2 (same sha256).',
            `${version.name}:${version.version}`,
            twins.map(v => `v${v.version}`).join(', ')
          ),
          type: 'warning',
          autoClose: false,
          progress: undefined,
          actions: [this.panelAction()]
        });
        return version;
      }
      this.succeed(
        id,
        trans.__('Pushed %1 to the model registry.', `${version.name}:${version.version}`)
      );
      return version;
    } catch (reason) {
      throw this.fail(id, trans.__('Push of %1 failed', request.path), reason);
    }
  }

  /** Deploys a version; resolves once the endpoint exists (it may still be Creating). */
  async deploy(request: Smops.IDeployRequest): Promise<void> {
    const ref = `${request.model}:${request.version ?? 'latest'}`;
    const trans = this.trans;
    const id = this.progress(trans.__('Deploying %1…', ref));
    try {
      const { job, endpoint: name } = await this.model.client.deploy(request);
      this.model.expectChange();
      await this.model.client.waitForJob(job, j => {
        this.updateProgress(id, trans.__('Deploying %1', ref), j);
        void this.model.refreshEndpoints();
      });
      await this.model.refreshEndpoints();
      const endpoint = this.model.endpoints.find(e => e.name === name);
      if (endpoint?.status === 'Failed') {
        throw new SmopsApiError(
          'DeployFailed',
          endpoint.failure_reason || trans.__('%1 failed to start.', endpoint.name)
        );
      }
      this.model.selectEndpoint(name);
      this.succeed(
        id,
        endpoint
          ? trans.__('Endpoint %1 is %2.', name, endpoint.status)
          : trans.__('Endpoint %1 is deployed.', name)
      );
    } catch (reason) {
      await this.model.refreshEndpoints();
      throw this.fail(id, trans.__('Deploy of %1 failed', ref), reason);
    }
  }

  /** Approves a version so it may be deployed where approval is required. */
  approve(ref: string): Promise<void> {
    return this.setApproval(ref, 'Approved');
  }

  /** Rejects a version: where approval is required it can no longer be deployed. */
  reject(ref: string): Promise<void> {
    return this.setApproval(ref, 'Rejected');
  }

  private async setApproval(ref: string, status: 'Approved' | 'Rejected'): Promise<void> {
    const at = ref.lastIndexOf(':');
    try {
      await this.model.client.setApproval(ref.slice(0, at), Number(ref.slice(at + 1)), status);
      await this.model.refreshModels();
      Notification.success(
        status === 'Approved'
          ? this.trans.__('%1 is approved.', ref)
          : this.trans.__('%1 is rejected.', ref),
        { autoClose: 5000 }
      );
    } catch (reason) {
      throw this.fail(
        null,
        status === 'Approved'
          ? this.trans.__('Approval of %1 failed', ref)
          : this.trans.__('Rejection of %1 failed', ref),
        reason
      );
    }
  }

  /** Deletes an endpoint after the user confirms; resolves false when cancelled. */
  async deleteEndpoint(name: string, confirm = true): Promise<boolean> {
    const trans = this.trans;
    if (confirm) {
      const answer = await showDialog({
        title: trans.__('Delete endpoint'),
        body: trans.__(
          'Delete %1 with its endpoint configuration and model? It stops serving at once.',
          name
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Delete'), ariaLabel: trans.__('Delete %1', name) })
        ]
      });
      if (!answer.button.accept) {
        return false;
      }
    }
    const id = this.progress(trans.__('Deleting %1…', name));
    try {
      const answer = await this.model.client.deleteEndpoint(name);
      this.model.expectChange();
      if (answer?.job) {
        await this.model.client.waitForJob(answer.job, j =>
          this.updateProgress(id, trans.__('Deleting %1', name), j)
        );
      }
      await this.model.refreshEndpoints();
      this.succeed(id, trans.__('Deleted %1.', name));
      return true;
    } catch (reason) {
      await this.model.refreshEndpoints();
      // Already deleted elsewhere (a notebook, the CLI, another tab): what the user wanted.
      const error = SmopsApiError.from(reason);
      if (error.status === 404 || error.code === 'NotFound') {
        Notification.dismiss(id);
        return true;
      }
      throw this.fail(id, trans.__('Delete of %1 failed', name), reason);
    }
  }

  /** Moves an endpoint's expiry (one of by, expires_in, no_expiry); resolves with the endpoint now. */
  async extend(name: string, request: Smops.IExtendRequest): Promise<Smops.IEndpoint> {
    const trans = this.trans;
    try {
      const endpoint = await this.model.client.extendEndpoint(name, request);
      this.model.expectChange();
      await this.model.refreshEndpoints();
      Notification.success(
        endpoint.expires_at
          ? trans.__('%1 now expires at %2.', name, clockText(Date.parse(endpoint.expires_at)))
          : trans.__('%1 no longer expires.', name),
        { autoClose: 5000 }
      );
      return endpoint;
    } catch (reason) {
      throw this.fail(null, trans.__('Changing the expiry of %1 failed', name), reason);
    }
  }

  /**
   * Exposes an endpoint: on SageMaker a public URL behind an API key (the key's value is in the
   * answer once); for a local endpoint the answer says what it would create (nothing is).
   */
  async expose(name: string, request: Smops.IExposeRequest = {}): Promise<Smops.IPublicFront> {
    const trans = this.trans;
    const id = this.progress(trans.__('Exposing %1…', name));
    try {
      const front = await this.model.client.expose(name, request);
      await this.model.refreshEndpoints();
      this.succeed(
        id,
        front.created
          ? trans.__('%1 has a public URL.', name)
          : trans.__('%1 is a local endpoint: nothing was made public.', name)
      );
      return front;
    } catch (reason) {
      throw this.fail(id, trans.__('Exposing %1 failed', name), reason);
    }
  }

  /** Removes an endpoint's public front after the user confirms; resolves false when cancelled. */
  async unexpose(name: string, confirm = true): Promise<boolean> {
    const trans = this.trans;
    if (confirm) {
      const answer = await showDialog({
        title: trans.__('Remove public URL'),
        body: trans.__(
          'Remove the public URL of %1? Its URL and API key stop working at once; the endpoint keeps running.',
          name
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Remove'), ariaLabel: trans.__('Remove the public URL of %1', name) })
        ]
      });
      if (!answer.button.accept) {
        return false;
      }
    }
    const id = this.progress(trans.__('Removing the public URL of %1…', name));
    try {
      const { removed } = await this.model.client.unexpose(name);
      await this.model.refreshEndpoints();
      this.succeed(
        id,
        removed
          ? trans.__('The public URL of %1 is removed.', name)
          : trans.__('%1 had no public URL.', name)
      );
      return true;
    } catch (reason) {
      throw this.fail(id, trans.__('Removing the public URL of %1 failed', name), reason);
    }
  }

  /** Cleanup: dry run first, then (when asked) the real thing. */
  async cleanup(dryRun: boolean): Promise<Smops.ICleanupResult> {
    const trans = this.trans;
    const id = dryRun ? null : this.progress(trans.__('Cleaning up…'));
    try {
      const result = await this.model.client.cleanup(dryRun);
      if (!dryRun) {
        await Promise.all([
          this.model.refreshEndpoints(),
          this.model.refreshModels()
        ]);
        const n = result.endpoints.length;
        const errors = result.errors.length;
        this.succeed(
          id!,
          trans._n('Cleanup deleted %1 endpoint.', 'Cleanup deleted %1 endpoints.', n) +
            (errors ? ' ' + trans._n('%1 could not be deleted.', '%1 could not be deleted.', errors) : '')
        );
      }
      return result;
    } catch (reason) {
      throw this.fail(id, trans.__('Cleanup failed'), reason);
    }
  }

  /** Validates a model.tar.gz; the notification lists each check. */
  async validate(path: string): Promise<Smops.IPackageResult> {
    const trans = this.trans;
    const id = this.progress(trans.__('Validating %1…', path));
    try {
      const result = await this.model.client.package({ path });
      const failed = result.checks.filter(c => !c.ok);
      const text = failed.length
        ? toastText(
            path,
            failed.map(c => trans.__('%1: %2.', c.name, c.message.replace(/\.$/, ''))).join(' '),
            trans
          )
        : trans._n(
            '%2 is a valid SageMaker package (%1 check passed).',
            '%2 is a valid SageMaker package (%1 checks passed).',
            result.checks.length,
            path
          );
      Notification.update({
        id,
        message: text,
        type: result.ok ? (failed.length ? 'warning' : 'success') : 'error',
        autoClose: result.ok ? 5000 : false,
        progress: undefined,
        actions: [
          detailsAction(
            trans.__('Validation of %1', path),
            packageDetails(result, trans),
            trans
          )
        ]
      });
      return result;
    } catch (reason) {
      throw this.fail(id, trans.__('Validation of %1 failed', path), reason);
    }
  }

  /** Shows an error that did not come from a notification-backed action. */
  report(title: string, reason: unknown): SmopsApiError {
    return this.fail(null, title, reason);
  }

  private progress(message: string): string {
    return Notification.emit(message, 'in-progress', {
      autoClose: false,
      progress: 0,
      actions: [this.panelAction()]
    });
  }

  private updateProgress(id: string, label: string, job: Smops.IJob): void {
    const { done, total } = job.progress ?? { done: null, total: null };
    const fraction = done !== null && total ? done / total : undefined;
    Notification.update({
      id,
      message: this.trans.__('%1: %2', label, job.phase),
      type: 'in-progress',
      progress: fraction,
      actions: [this.panelAction()]
    });
  }

  private succeed(id: string, message: string): void {
    Notification.update({
      id,
      message,
      type: 'success',
      autoClose: 5000,
      progress: undefined,
      actions: [this.panelAction()]
    });
  }

  private fail(
    id: string | null,
    title: string,
    reason: unknown
  ): SmopsApiError {
    const error = SmopsApiError.from(reason);
    // Whole sentences that fit a toast; the full message, hint and checks behind "Details".
    const message = toastText(title, error.message, this.trans);
    const options = {
      autoClose: false as const,
      actions: [
        detailsAction(title, errorDetails(error, this.trans), this.trans),
        this.panelAction()
      ]
    };
    if (id) {
      Notification.update({ id, message, type: 'error', ...options });
    } else {
      Notification.error(message, options);
    }
    return error;
  }

  private panelAction(): Notification.IAction {
    return {
      label: this.trans.__('Open panel'),
      caption: this.trans.__('Show the SageMaker MLOps panel'),
      callback: () => this._openPanel()
    };
  }
}

/** Other versions of the same model with the same sha256 as `version`. */
export function identicalVersions(
  models: Smops.IModel[],
  version: Smops.IModelVersion
): Smops.IModelVersion[] {
  const model = models.find(m => m.name === version.name);
  return (model?.versions ?? []).filter(
    v => v.version !== version.version && !!v.sha256 && v.sha256 === version.sha256
  );
}

import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { SmopsApiError } from './api';
import { SmopsModel } from './model';
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
    private readonly _openPanel: () => void
  ) {}

  /** Opens an endpoint's log in the main area (set by the plugin; the panel shows it inline without). */
  openLogs: ((endpoint: string) => void) | null = null;

  /** Pushes a model file under the server root; resolves with the new version. */
  async push(request: Smops.IPushRequest): Promise<Smops.IModelVersion> {
    const id = this.progress(`Pushing ${request.path} as ${request.name}…`);
    try {
      const { job } = await this.model.client.push(request);
      const done = await this.model.client.waitForJob(job, j =>
        this.updateProgress(id, `Pushing ${request.name}`, j)
      );
      const version = done.result as Smops.IModelVersion;
      await this.model.refreshModels();
      this.model.select(`${version.name}:${version.version}`);
      const twins = identicalVersions(this.model.models, version);
      if (twins.length) {
        // Not an error: the user decides whether a second copy is what they wanted.
        Notification.update({
          id,
          message:
            `Pushed ${version.name}:${version.version}; it is identical to ` +
            `${twins.map(v => `v${v.version}`).join(', ')} (same sha256).`,
          type: 'warning',
          autoClose: false,
          progress: undefined,
          actions: [this.panelAction()]
        });
        return version;
      }
      this.succeed(
        id,
        `Pushed ${version.name}:${version.version} to the model registry.`
      );
      return version;
    } catch (reason) {
      throw this.fail(id, `Push of ${request.path} failed`, reason);
    }
  }

  /** Deploys a version; resolves once the endpoint exists (it may still be Creating). */
  async deploy(request: Smops.IDeployRequest): Promise<void> {
    const ref = `${request.model}:${request.version ?? 'latest'}`;
    const id = this.progress(`Deploying ${ref}…`);
    try {
      const { job, endpoint: name } = await this.model.client.deploy(request);
      this.model.expectChange();
      await this.model.client.waitForJob(job, j => {
        this.updateProgress(id, `Deploying ${ref}`, j);
        void this.model.refreshEndpoints();
      });
      await this.model.refreshEndpoints();
      const endpoint = this.model.endpoints.find(e => e.name === name);
      if (endpoint?.status === 'Failed') {
        throw new SmopsApiError(
          'DeployFailed',
          endpoint.failure_reason || `${endpoint.name} failed to start.`
        );
      }
      this.model.selectEndpoint(name);
      this.succeed(id, `Endpoint ${name} is ${endpoint?.status ?? 'deployed'}.`);
    } catch (reason) {
      await this.model.refreshEndpoints();
      throw this.fail(id, `Deploy of ${ref} failed`, reason);
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
      Notification.success(`${ref} is ${status}.`, { autoClose: 5000 });
    } catch (reason) {
      throw this.fail(null, `${status === 'Approved' ? 'Approval' : 'Rejection'} of ${ref} failed`, reason);
    }
  }

  /** Deletes an endpoint after the user confirms; resolves false when cancelled. */
  async deleteEndpoint(name: string, confirm = true): Promise<boolean> {
    if (confirm) {
      const answer = await showDialog({
        title: 'Delete endpoint',
        body: `Delete ${name} with its endpoint configuration and model? It stops serving at once.`,
        buttons: [
          Dialog.cancelButton(),
          Dialog.warnButton({ label: 'Delete', ariaLabel: `Delete ${name}` })
        ]
      });
      if (!answer.button.accept) {
        return false;
      }
    }
    const id = this.progress(`Deleting ${name}…`);
    try {
      const answer = await this.model.client.deleteEndpoint(name);
      this.model.expectChange();
      if (answer?.job) {
        await this.model.client.waitForJob(answer.job, j =>
          this.updateProgress(id, `Deleting ${name}`, j)
        );
      }
      await this.model.refreshEndpoints();
      this.succeed(id, `Deleted ${name}.`);
      return true;
    } catch (reason) {
      await this.model.refreshEndpoints();
      // Already deleted elsewhere (a notebook, the CLI, another tab): what the user wanted.
      const error = SmopsApiError.from(reason);
      if (error.status === 404 || error.code === 'NotFound') {
        Notification.dismiss(id);
        return true;
      }
      throw this.fail(id, `Delete of ${name} failed`, reason);
    }
  }

  /** Cleanup: dry run first, then (when asked) the real thing. */
  async cleanup(dryRun: boolean): Promise<Smops.ICleanupResult> {
    const id = dryRun ? null : this.progress('Cleaning up…');
    try {
      const result = await this.model.client.cleanup(dryRun);
      if (!dryRun) {
        await Promise.all([
          this.model.refreshEndpoints(),
          this.model.refreshModels()
        ]);
        const n = result.endpoints.length;
        this.succeed(
          id!,
          `Cleanup deleted ${n} endpoint${n === 1 ? '' : 's'}` +
            (result.errors.length ? ` (${result.errors.length} errors)` : '.')
        );
      }
      return result;
    } catch (reason) {
      throw this.fail(id, 'Cleanup failed', reason);
    }
  }

  /** Validates a model.tar.gz; the notification lists each check. */
  async validate(path: string): Promise<Smops.IPackageResult> {
    const id = this.progress(`Validating ${path}…`);
    try {
      const result = await this.model.client.package({ path });
      const failed = result.checks.filter(c => !c.ok);
      const text = failed.length
        ? `${path}: ${failed.map(c => `${c.name}: ${c.message}`).join('; ')}`
        : `${path} is a valid SageMaker package (${result.checks.length} checks passed).`;
      Notification.update({
        id,
        message: text,
        type: result.ok ? (failed.length ? 'warning' : 'success') : 'error',
        autoClose: result.ok ? 5000 : false,
        progress: undefined,
        actions: [Private.detailsAction(JSON.stringify(result, null, 2))]
      });
      return result;
    } catch (reason) {
      throw this.fail(id, `Validation of ${path} failed`, reason);
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
      message: `${label}: ${job.phase}`,
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
    const message = `${title}: ${error.message}`;
    const options = {
      autoClose: false as const,
      actions: [Private.detailsAction(error.describe()), this.panelAction()]
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
      label: 'Open panel',
      caption: 'Show the SageMaker MLOps panel',
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

namespace Private {
  export function detailsAction(text: string): Notification.IAction {
    return {
      label: 'Details',
      caption: 'Show the full message from the server',
      callback: () => {
        const body = document.createElement('pre');
        body.className = 'jp-smops-details';
        body.textContent = text;
        void showDialog({
          title: 'SageMaker MLOps: details',
          body: new Widget({ node: body }),
          buttons: [Dialog.okButton({ label: 'Close' })]
        });
      }
    };
  }
}

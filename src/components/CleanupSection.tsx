import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { Smops } from '../types';
import { SectionHead } from './SectionHead';

/** Everything that would be deleted (dry run), then delete it. */
export function CleanupSection({ actions }: { actions: SmopsActions }): JSX.Element {
  const [plan, setPlan] = React.useState<Smops.ICleanupResult | null>(null);
  const [done, setDone] = React.useState<Smops.ICleanupResult | null>(null);
  const [busy, setBusy] = React.useState(false);
  const items = plan ? listed(plan) : [];

  const preview = async () => {
    setBusy(true);
    try {
      setPlan(await actions.cleanup(true));
      setDone(null);
    } catch {
      // shown by the notification
    } finally {
      setBusy(false);
    }
  };
  const run = async () => {
    const answer = await showDialog({
      title: 'Clean up',
      body: `Delete ${items.length} resource${items.length === 1 ? '' : 's'}? This cannot be undone.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete all' })]
    });
    if (!answer.button.accept) {
      return;
    }
    setBusy(true);
    try {
      setDone(await actions.cleanup(false));
      setPlan(await actions.cleanup(true));
    } catch {
      // shown by the notification
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="jp-smops-section" aria-labelledby="jp-smops-cleanup">
      <SectionHead id="jp-smops-cleanup" title="Cleanup" />
      <div className="jp-smops-actions">
        <Button small onClick={() => void preview()} disabled={busy} aria-label="Preview cleanup">
          Preview cleanup
        </Button>
        {items.length > 0 && (
          <Button
            small
            className="jp-smops-danger"
            onClick={() => void run()}
            disabled={busy}
            aria-label="Delete everything listed"
          >
            Delete {items.length}
          </Button>
        )}
      </div>
      {done && (
        <p className="jp-smops-muted" aria-live="polite">
          Deleted {listed(done).length} resource{listed(done).length === 1 ? '' : 's'}.
          {done.errors.length ? ` Errors: ${done.errors.join('; ')}` : ''}
        </p>
      )}
      {plan &&
        (items.length ? (
          <ul className="jp-smops-cleanup" aria-label="Would be deleted">
            {items.map(item => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        ) : (
          <p className="jp-smops-muted" data-testid="smops-cleanup-empty">
            Nothing to clean up: no endpoints, configs or models of yours are left.
          </p>
        ))}
    </section>
  );
}

function listed(result: Smops.ICleanupResult): string[] {
  return [
    ...result.endpoints.map(n => `endpoint ${n}`),
    ...result.endpoint_configs.map(n => `endpoint config ${n}`),
    ...result.models.map(n => `model ${n}`),
    ...result.registry_versions.map(n => `registry version ${n}`)
  ];
}

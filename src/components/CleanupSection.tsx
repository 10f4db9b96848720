import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsActions } from '../actions';
import { Smops } from '../types';
import { TranslationBundle, useTrans } from '../trans';
import { SectionHead } from './SectionHead';

/** Everything that would be deleted (dry run), then delete it. */
export function CleanupSection({ actions }: { actions: SmopsActions }): JSX.Element {
  const trans = useTrans();
  const [plan, setPlan] = React.useState<Smops.ICleanupResult | null>(null);
  const [done, setDone] = React.useState<Smops.ICleanupResult | null>(null);
  const [busy, setBusy] = React.useState(false);
  const items = plan ? listed(plan, trans) : [];

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
      title: trans.__('Clean up'),
      body: trans._n(
        'Delete %1 resource? This cannot be undone.',
        'Delete %1 resources? This cannot be undone.',
        items.length
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete all') })
      ]
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
      <SectionHead id="jp-smops-cleanup" title={trans.__('Cleanup')} />
      <div className="jp-smops-actions">
        <Button
          small
          onClick={() => void preview()}
          disabled={busy}
          aria-label={trans.__('Preview cleanup')}
        >
          {trans.__('Preview cleanup')}
        </Button>
        {items.length > 0 && (
          <Button
            small
            className="jp-smops-danger"
            onClick={() => void run()}
            disabled={busy}
            aria-label={trans.__('Delete everything listed')}
          >
            {trans._n('Delete %1 resource', 'Delete %1 resources', items.length)}
          </Button>
        )}
      </div>
      {done && (
        <p className="jp-smops-muted" aria-live="polite">
          {trans._n('Deleted %1 resource.', 'Deleted %1 resources.', listed(done, trans).length)}
          {done.errors.length
            ? ' ' + trans.__('Errors: %1', done.errors.join('; '))
            : ''}
        </p>
      )}
      {plan &&
        (items.length ? (
          <ul className="jp-smops-cleanup" aria-label={trans.__('Would be deleted')}>
            {items.map(item => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        ) : (
          <p className="jp-smops-muted" data-testid="smops-cleanup-empty">
            {/* The registry's versions listed above stay: "no models left" next to them read as a
                contradiction (issue 14). */}
            {trans.__(
              'Nothing to clean up: no endpoints of yours are left, nor their configs or deployed models. Registry versions are kept.'
            )}
          </p>
        ))}
    </section>
  );
}

function listed(result: Smops.ICleanupResult, trans: TranslationBundle): string[] {
  return [
    ...result.endpoints.map(n => trans.__('endpoint %1', n)),
    ...result.endpoint_configs.map(n => trans.__('endpoint config %1', n)),
    ...result.models.map(n => trans.__('deployed model %1', n)),
    ...result.registry_versions.map(n => trans.__('registry version %1', n))
  ];
}

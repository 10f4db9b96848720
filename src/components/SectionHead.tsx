import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

export interface ISectionHeadProps {
  /** The heading's id: the value of the section's `aria-labelledby`. */
  id: string;
  title: string;
  /**
   * A refresh button: `label` is its accessible name and tooltip (e.g. "Refresh models");
   * it ignores clicks until the promise `run` returns settles, so reloads do not pile up.
   */
  refresh?: { label: string; run: () => Promise<void> | void };
  /** Why the section's content could not be loaded; shown as an alert under the title. */
  error?: { message: string } | null;
  /** More actions, placed between the title and the refresh button. */
  children?: React.ReactNode;
}

/** A section's title, its actions (e.g. refresh) on the same row, and its load error. */
export function SectionHead(props: ISectionHeadProps): JSX.Element {
  const { id, title, refresh, error, children } = props;
  const [busy, setBusy] = React.useState(false);

  const reload = async (run: () => Promise<void> | void) => {
    if (busy) {
      return;
    }
    setBusy(true);
    try {
      await run();
    } finally {
      setBusy(false);
    }
  };

  const heading = <h3 id={id}>{title}</h3>;
  const hasActions = !!refresh || !!children;
  return (
    <>
      {hasActions ? (
        <div className="jp-smops-section-head">
          {heading}
          {children}
          {refresh && (
            <button
              className="jp-smops-icon-button"
              onClick={() => void reload(refresh.run)}
              // aria-disabled rather than disabled: a disabled button drops keyboard focus.
              aria-disabled={busy || undefined}
              aria-busy={busy || undefined}
              aria-label={refresh.label}
              title={refresh.label}
            >
              <refreshIcon.react tag="span" />
            </button>
          )}
        </div>
      ) : (
        // A bare title stays a direct child of the section: inside the flex row its bottom
        // margin would no longer collapse with the content below, and that would move down.
        heading
      )}
      {error && (
        <div className="jp-smops-banner jp-smops-error" role="alert">
          {error.message}
        </div>
      )}
    </>
  );
}

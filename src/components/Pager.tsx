import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { useTrans } from '../trans';

export const PAGE_SIZE = 25;

/** Previous / next for a paginated list (long lists never render all rows at once). */
export function Pager(props: {
  page: number;
  total: number;
  label: string;
  onPage: (page: number) => void;
}): JSX.Element | null {
  const trans = useTrans();
  const pages = Math.ceil(props.total / PAGE_SIZE);
  if (pages <= 1) {
    return null;
  }
  return (
    <nav className="jp-smops-pager" aria-label={trans.__('%1 pages', props.label)}>
      <Button
        small
        minimal
        disabled={props.page === 0}
        onClick={() => props.onPage(props.page - 1)}
        aria-label={trans.__('Previous %1 page', props.label)}
      >
        {trans.__('‹ Prev')}
      </Button>
      <span>{trans.__('%1 / %2', props.page + 1, pages)}</span>
      <Button
        small
        minimal
        disabled={props.page >= pages - 1}
        onClick={() => props.onPage(props.page + 1)}
        aria-label={trans.__('Next %1 page', props.label)}
      >
        {trans.__('Next ›')}
      </Button>
    </nav>
  );
}

/** The slice of `items` on `page`, with the page clamped to what exists. */
export function pageOf<T>(items: T[], page: number): [T[], number] {
  const last = Math.max(0, Math.ceil(items.length / PAGE_SIZE) - 1);
  const current = Math.min(page, last);
  return [
    items.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE),
    current
  ];
}

import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { SectionHead } from '../components/SectionHead';

/** A promise with its resolve, to hold a refresh in flight. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => undefined as void;
  const promise = new Promise<void>(r => (resolve = r));
  return { promise, resolve };
}

describe('SectionHead', () => {
  it('renders the title as a heading with the id the section is labelled by', () => {
    const { container } = render(
      <section aria-labelledby="jp-smops-models">
        <SectionHead id="jp-smops-models" title="Models" />
      </section>
    );
    const heading = screen.getByRole('heading', { name: 'Models' });
    expect(heading.id).toBe('jp-smops-models');
    expect(screen.getByRole('region', { name: 'Models' })).toBeTruthy();
    // Nothing beside the title: no row around it, no button.
    expect(container.querySelector('.jp-smops-section-head')).toBeNull();
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('puts actions and the refresh button on the title row, and refresh calls back', async () => {
    const run = jest.fn();
    const onPush = jest.fn();
    const { container } = render(
      <SectionHead id="jp-smops-models" title="Models" refresh={{ label: 'Refresh models', run }}>
        <button onClick={onPush}>Push…</button>
      </SectionHead>
    );
    const row = container.querySelector('.jp-smops-section-head')!;
    expect(Array.from(row.children).map(c => c.tagName)).toEqual(['H3', 'BUTTON', 'BUTTON']);
    const refresh = screen.getByRole('button', { name: 'Refresh models' });
    expect(refresh.getAttribute('title')).toBe('Refresh models');
    expect(refresh.classList.contains('jp-smops-icon-button')).toBe(true);
    await act(async () => {
      fireEvent.click(refresh);
    });
    expect(run).toHaveBeenCalledTimes(1);
    expect(onPush).not.toHaveBeenCalled();
  });

  it('is busy and ignores clicks until the refresh settles', async () => {
    const pending = deferred();
    const run = jest.fn(() => pending.promise);
    render(
      <SectionHead id="jp-smops-endpoints" title="Endpoints" refresh={{ label: 'Refresh endpoints', run }} />
    );
    const refresh = screen.getByRole('button', { name: 'Refresh endpoints' });
    expect(refresh.getAttribute('aria-disabled')).toBeNull();
    fireEvent.click(refresh);
    expect(refresh.getAttribute('aria-disabled')).toBe('true');
    expect(refresh.getAttribute('aria-busy')).toBe('true');
    fireEvent.click(refresh);
    expect(run).toHaveBeenCalledTimes(1);
    await act(async () => {
      pending.resolve();
      await pending.promise;
    });
    expect(refresh.getAttribute('aria-disabled')).toBeNull();
    expect(refresh.getAttribute('aria-busy')).toBeNull();
    await act(async () => {
      fireEvent.click(refresh);
    });
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('shows the error as an alert under the title, and hides it once cleared', () => {
    const head = (error: { message: string } | null) => (
      <SectionHead id="jp-smops-endpoints" title="Endpoints" error={error} refresh={{ label: 'Refresh endpoints', run: jest.fn() }} />
    );
    const { rerender, container } = render(head({ message: 'Throttled: try again in a minute.' }));
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toBe('Throttled: try again in a minute.');
    expect(alert.className).toBe('jp-smops-banner jp-smops-error');
    // A sibling after the title row, not inside it.
    expect(container.querySelector('.jp-smops-section-head')!.nextElementSibling).toBe(alert);
    rerender(head(null));
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

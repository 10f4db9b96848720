import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import * as React from 'react';

import { SmopsPanelView } from '../components/Panel';
import { SmopsModel } from '../model';
import { DEFAULT_SETTINGS } from '../settings';
import { offeredTypes, sampleText } from '../snippets';
import { endpoint, mockActions, mockClient, version } from './fixtures';

const JSON_TYPE = 'application/json';
const CSV_TYPE = 'text/csv';
const NPY = 'application/x-npy';

/** The panel over two InService endpoints: iris:1 (reads `v1`) on iris-v1, iris:2 (reads `v2`) on iris-v2. */
async function renderPanel(v1: string[] | null, v2: string[] | null = [JSON_TYPE, CSV_TYPE]) {
  const client = mockClient({
    models: jest.fn().mockResolvedValue([
      { name: 'iris', versions: [version('iris', 1, { accepts: v1 }), version('iris', 2, { accepts: v2 })] }
    ]),
    endpoints: jest
      .fn()
      .mockResolvedValue([endpoint('iris-v1', 'InService'), endpoint('iris-v2', 'InService', { version: 2 })])
  });
  const model = new SmopsModel(client);
  await model.checkServer('0.1.0');
  await model.load();
  render(<SmopsPanelView model={model} actions={mockActions(model)} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />);
  return { client, model };
}

function offered(): string[] {
  const select = screen.getByLabelText('Request content type') as HTMLSelectElement;
  return Array.from(select.options).map(o => o.value);
}

afterEach(() => jest.restoreAllMocks());

describe('content types offered from what the model accepts', () => {
  it('offers only JSON for a model whose input_fn reads JSON only, and sends it', async () => {
    const { client, model } = await renderPanel([JSON_TYPE]);
    expect(offered()).toEqual([JSON_TYPE]);
    expect(screen.getByTestId('smops-types-note').textContent).toBe(
      'iris:1 accepts application/json (read from its inference.py at push).'
    );
    fireEvent.click(screen.getByRole('button', { name: 'Send request' }));
    await waitFor(() => expect(client.invoke).toHaveBeenCalledWith('iris-v1', expect.any(String), JSON_TYPE));
    model.dispose();
  });

  it('defaults to the first accepted type, and the snippets use the chosen one', async () => {
    const { client, model } = await renderPanel([CSV_TYPE, JSON_TYPE]);
    expect(offered()).toEqual([CSV_TYPE, JSON_TYPE]);
    expect((screen.getByLabelText('Request content type') as HTMLSelectElement).value).toBe(CSV_TYPE);
    // The sample as CSV rows.
    expect((screen.getByLabelText('Request body') as HTMLTextAreaElement).value).toBe('5.1,3.5,1.4,0.2');
    expect(screen.getByTestId('smops-snippet').textContent).toContain("-H 'Content-Type: text/csv'");
    fireEvent.change(screen.getByLabelText('Request content type'), { target: { value: JSON_TYPE } });
    expect(screen.getByTestId('smops-snippet').textContent).toContain("-H 'Content-Type: application/json'");
    fireEvent.click(screen.getByRole('button', { name: 'Send request' }));
    await waitFor(() => expect(client.invoke).toHaveBeenCalledWith('iris-v1', expect.any(String), JSON_TYPE));
    model.dispose();
  });

  it('offers every type, with a note, for a version with no recorded fact; a choice the next model lacks falls back', async () => {
    const { model } = await renderPanel(null, [JSON_TYPE]);
    expect(offered()).toEqual([JSON_TYPE, CSV_TYPE]);
    expect(screen.getByTestId('smops-types-note').textContent).toMatch(/is not known .* all are offered/);
    fireEvent.change(screen.getByLabelText('Request content type'), { target: { value: CSV_TYPE } });
    fireEvent.change(screen.getByLabelText('Endpoint to test'), { target: { value: 'iris-v2' } });
    await waitFor(() => expect(offered()).toEqual([JSON_TYPE]));
    expect((screen.getByLabelText('Request content type') as HTMLSelectElement).value).toBe(JSON_TYPE);
    model.dispose();
  });

  it('never offers binary types a text box cannot hold', async () => {
    expect(offeredTypes([JSON_TYPE, CSV_TYPE, NPY])).toEqual({ types: [JSON_TYPE, CSV_TYPE], note: null });
    const npyOnly = offeredTypes([NPY]);
    expect(npyOnly.types).toEqual([]);
    expect(npyOnly.note).toMatch(/reads only application\/x-npy/);
    const { model } = await renderPanel([NPY]);
    expect((screen.getByRole('button', { name: 'Send request' }) as HTMLButtonElement).disabled).toBe(true);
    model.dispose();
  });

  it('writes the sample for JSON-like types as JSON and leaves others empty', () => {
    const sample = { instances: [[1, 2]] };
    expect(sampleText(sample, 'application/jsonlines')).toBe('{"instances":[[1,2]]}');
    expect(sampleText(sample, CSV_TYPE)).toBe('1,2');
    expect(sampleText(sample, 'text/plain')).toBe('');
  });
});

import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import * as React from 'react';

import { SmopsApiError } from '../api';
import { LatencyChart, median } from '../components/LatencyChart';
import { SmopsPanelView } from '../components/Panel';
import { SmopsModel } from '../model';
import { DEFAULT_SETTINGS } from '../settings';
import { bodyProblem, snippets } from '../snippets';
import { endpoint, mockActions, mockClient, STATUS } from './fixtures';

async function renderPanel(client: ReturnType<typeof mockClient>) {
  const model = new SmopsModel(client);
  await model.checkServer('0.1.0');
  await model.load();
  render(<SmopsPanelView model={model} actions={mockActions(model)} settings={DEFAULT_SETTINGS} onPush={jest.fn()} />);
  return model;
}

afterEach(() => jest.restoreAllMocks());

describe('Test inference', () => {
  it('refuses malformed JSON before sending, with an inline reason', async () => {
    const client = mockClient({ endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService')]) });
    const model = await renderPanel(client);
    fireEvent.change(screen.getByLabelText('Request body'), { target: { value: '{"instances": [[5.1, 3.5' } });
    expect(screen.getByRole('alert').textContent).toMatch(/^The request body is not valid JSON/);
    const send = screen.getByRole('button', { name: 'Send request' }) as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    fireEvent.keyDown(screen.getByLabelText('Request body'), { key: 'Enter', ctrlKey: true });
    expect(client.invoke).not.toHaveBeenCalled();
    model.dispose();
  });

  it('sends with Ctrl+Enter and Cmd+Enter', async () => {
    const client = mockClient({ endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService')]) });
    const model = await renderPanel(client);
    fireEvent.keyDown(screen.getByLabelText('Request body'), { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(client.invoke).toHaveBeenCalledTimes(1));
    await screen.findByTestId('smops-response-body');
    fireEvent.keyDown(screen.getByLabelText('Request body'), { key: 'Enter', metaKey: true });
    await waitFor(() => expect(client.invoke).toHaveBeenCalledTimes(2));
    model.dispose();
  });

  it('charts failed calls and clears the error when another endpoint is picked', async () => {
    const client = mockClient({
      endpoints: jest.fn().mockResolvedValue([endpoint('iris-v1', 'InService'), endpoint('iris-v2', 'InService')]),
      invoke: jest.fn().mockRejectedValue(new SmopsApiError('ModelError', 'X has 3 features, but expects 4', 424))
    });
    const model = await renderPanel(client);
    fireEvent.click(screen.getByRole('button', { name: 'Send request' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/X has 3 features/);
    expect(model.invocations).toHaveLength(1);
    expect(model.invocations[0]).toMatchObject({ ok: false, status: 424, endpoint: 'iris-v1' });
    expect(screen.getByRole('img').getAttribute('aria-label')).toMatch(/1 request, 1 failed/);
    fireEvent.change(screen.getByLabelText('Endpoint to test'), { target: { value: 'iris-v2' } });
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull());
    model.dispose();
  });
});

describe('LatencyChart', () => {
  it('draws axes with ms and request numbers, and marks failed bars', () => {
    const requests = [
      { endpoint: 'e', status: 200, body: '', contentType: '', latencyMs: 10, at: 1, ok: true },
      { endpoint: 'e', status: 424, body: '', contentType: '', latencyMs: 30, at: 2, ok: false },
      { endpoint: 'e', status: 200, body: '', contentType: '', latencyMs: 20, at: 3, ok: true }
    ];
    const { container } = render(<LatencyChart requests={requests} />);
    const labels = Array.from(container.querySelectorAll('.jp-smops-chart-label')).map(t => t.textContent);
    // Three requests fill 3 of 25 slots: the axis ends at #25, not at the newest request.
    expect(labels).toEqual(['30', '0 ms', '#1', 'requests', '#25']);
    expect(container.querySelectorAll('[data-failed="true"]')).toHaveLength(1);
    expect(container.querySelector('figcaption')!.textContent).toBe('3 requests, 1 failed · median 15.0 ms · max 30.0 ms');
    expect(median([3, 1, 2])).toBe(2);
  });
});

describe('snippets', () => {
  const body = '{"instances": [[5.1, 3.5, 1.4, 0.2]]}';

  it('calls a local endpoint by its URL, and through runtime_url with boto3', () => {
    const local = endpoint('iris-v1', 'InService', { url: 'http://127.0.0.1:40000' });
    const all = snippets(local, body, 'application/json', { region: null, runtime_url: 'http://127.0.0.1:8765' });
    expect(all.map(s => s.id)).toEqual(['curl', 'requests', 'boto3']);
    expect(all[0].code).toContain('curl -s http://127.0.0.1:40000/invocations');
    expect(all[0].code).toContain(`--data-binary '${body}'`);
    expect(all[1].code).toContain('requests.post(\n    "http://127.0.0.1:40000/invocations"');
    expect(all[2].code).toContain('endpoint_url="http://127.0.0.1:8765"');
    expect(all[2].code).toContain('EndpointName="iris-v1"');
    // No runtime_url: no boto3 snippet for a local endpoint.
    expect(snippets(local, body, 'text/csv', { region: null, runtime_url: null }).map(s => s.id)).toEqual(['curl', 'requests']);
  });

  it('signs SageMaker calls (curl --aws-sigv4, boto3) and quotes bodies for the shell and Python', () => {
    const sm = endpoint('iris-sm', 'InService', { backend: 'sagemaker', url: null });
    const all = snippets(sm, `it's "quoted"`, 'text/csv', { ...STATUS, region: 'eu-west-1' });
    expect(all.map(s => s.id)).toEqual(['curl', 'boto3']);
    expect(all[0].code).toContain('https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/iris-sm/invocations');
    expect(all[0].code).toContain(`--aws-sigv4 'aws:amz:eu-west-1:sagemaker'`);
    expect(all[0].code).toContain(`--data-binary 'it'\\''s "quoted"'`);
    expect(all[1].code).toContain('boto3.client("sagemaker-runtime", region_name="eu-west-1")');
    expect(all[1].code).toContain('Body="it\'s \\"quoted\\""');
    const exposed = { ...sm, public_url: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/iris-sm' };
    expect(snippets(exposed, body, 'application/json', null).map(s => s.id)).toEqual(['curl', 'requests', 'boto3']);
  });

  it('checks JSON bodies only, and refuses empty ones', () => {
    expect(bodyProblem('{"instances": [[1]]}', 'application/json')).toBeNull();
    expect(bodyProblem('{nope', 'application/json')).toMatch(/not valid JSON/);
    expect(bodyProblem('1,2,3', 'text/csv')).toBeNull();
    expect(bodyProblem('  ', 'text/csv')).toMatch(/empty/);
  });
});

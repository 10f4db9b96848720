import { ServerConnection } from '@jupyterlab/services';

import { SmopsApiError, SmopsClient } from '../api';
import { job } from './fixtures';

type Answer = { status: number; body: string; headers?: Record<string, string> };

/** Replaces the HTTP layer: each call takes the next answer and records the request. */
function serve(...answers: Answer[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  jest.spyOn(ServerConnection, 'makeRequest').mockImplementation(async (url, init) => {
    calls.push({ url, init });
    const answer = answers.shift();
    if (!answer) {
      throw new Error(`unexpected request ${url}`);
    }
    return {
      ok: answer.status < 400,
      status: answer.status,
      text: async () => answer.body,
      headers: { get: (k: string) => answer.headers?.[k] ?? null }
    } as unknown as Response;
  });
  return calls;
}

const settings = ServerConnection.makeSettings({ baseUrl: 'http://lab/' });

afterEach(() => jest.restoreAllMocks());

describe('SmopsClient', () => {
  it('maps the server error body to one SmopsApiError with code, message and status', async () => {
    serve({
      status: 409,
      body: JSON.stringify({
        error: { code: 'Conflict', message: 'An endpoint named iris-v1 already exists.', details: { a: 1 } }
      })
    });
    const client = new SmopsClient({ serverSettings: settings });
    const error = await client.deploy({ model: 'iris' }).catch(e => e);
    expect(error).toBeInstanceOf(SmopsApiError);
    expect(error.code).toBe('Conflict');
    expect(error.status).toBe(409);
    expect(error.message).toBe('An endpoint named iris-v1 already exists.');
    expect(error.describe()).toContain('"a": 1');
  });

  it('says the server extension is missing on a bare 404', async () => {
    serve({ status: 404, body: '<html>Not Found</html>' });
    const error = await new SmopsClient({ serverSettings: settings }).status().catch(e => e);
    expect(error.code).toBe('NotFound');
    expect(error.message).toMatch(/server extension did not answer/);
  });

  it('sends JSON bodies to /smops/api routes and unwraps listings', async () => {
    const calls = serve(
      { status: 200, body: JSON.stringify({ models: [{ name: 'iris', versions: [] }] }) },
      { status: 202, body: JSON.stringify({ job: job('running'), endpoint: 'iris-v1' }) }
    );
    const client = new SmopsClient({ serverSettings: settings });
    expect(await client.models()).toEqual([{ name: 'iris', versions: [] }]);
    await client.deploy({ model: 'iris', version: 1, local: true });
    expect(calls[0].url).toBe('http://lab/smops/api/models');
    expect(calls[1].url).toBe('http://lab/smops/api/endpoints');
    expect(calls[1].init.method).toBe('POST');
    expect(JSON.parse(calls[1].init.body as string)).toEqual({ model: 'iris', version: 1, local: true });
  });

  it('invokes with the content type and gives back body, type and latency', async () => {
    const calls = serve({
      status: 200,
      body: '{"predictions": [0]}',
      headers: { 'Content-Type': 'application/json' }
    });
    const client = new SmopsClient({ serverSettings: settings });
    const answer = await client.invoke('iris-v1', '5.1,3.5,1.4,0.2', 'text/csv');
    expect(JSON.parse(answer.body)).toEqual({ predictions: [0] });
    expect(answer.contentType).toBe('application/json');
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    expect(calls[0].url).toBe('http://lab/smops/api/endpoints/iris-v1/invocations');
    expect((calls[0].init.headers as Record<string, string>)['Content-Type']).toBe('text/csv');
  });

  it('rejects a model error (424) with the container message', async () => {
    serve({
      status: 424,
      body: JSON.stringify({
        error: { code: 'ModelError', message: 'The model failed: X has 3 features', details: { original_status: 500 } }
      })
    });
    const error = await new SmopsClient({ serverSettings: settings })
      .invoke('iris-v1', '{"instances": [[1, 2, 3]]}')
      .catch(e => e);
    expect(error.code).toBe('ModelError');
    expect(error.status).toBe(424);
    expect(error.details).toEqual({ original_status: 500 });
  });

  it('waits for a job through its progress to its result', async () => {
    serve(
      { status: 200, body: JSON.stringify(job('running', { phase: 'validating' })) },
      { status: 200, body: JSON.stringify(job('succeeded', { result: { version: 3 } })) }
    );
    const client = new SmopsClient({ serverSettings: settings, jobInterval: 1 });
    const phases: string[] = [];
    const done = await client.waitForJob(job('running'), j => phases.push(j.phase));
    expect(done.result).toEqual({ version: 3 });
    expect(phases).toEqual(['validating', 'done']);
  });

  it('rejects a failed job with its error', async () => {
    serve({
      status: 200,
      body: JSON.stringify(job('failed', { error: { code: 'InvalidArtifact', message: 'model_fn opens iris_model.pkl' } }))
    });
    const client = new SmopsClient({ serverSettings: settings, jobInterval: 1 });
    const error = await client.waitForJob(job('running')).catch(e => e);
    expect(error).toBeInstanceOf(SmopsApiError);
    expect(error.code).toBe('InvalidArtifact');
    expect(error.message).toContain('iris_model.pkl');
  });

  it('runs a non-dry cleanup as a job and returns its result', async () => {
    const result = { dry_run: false, endpoints: ['iris-v1'], endpoint_configs: [], models: [], registry_versions: [], errors: [] };
    serve(
      { status: 202, body: JSON.stringify({ job: job('running', { kind: 'cleanup' }) }) },
      { status: 200, body: JSON.stringify(job('succeeded', { result })) }
    );
    const client = new SmopsClient({ serverSettings: settings, jobInterval: 1 });
    expect(await client.cleanup(false)).toEqual(result);
  });
});

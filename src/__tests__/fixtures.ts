import { SmopsActions } from '../actions';
import { SmopsClient } from '../api';
import { SmopsModel } from '../model';
import { Smops } from '../types';

export const SEED = { instances: [[5.1, 3.5, 1.4, 0.2]] };

export function version(
  name: string,
  v: number,
  extra: Partial<Smops.IModelVersion> = {}
): Smops.IModelVersion {
  return {
    name,
    version: v,
    sha256: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56abcd',
    size: 2867,
    framework: 'sklearn',
    framework_version: '1.9.1',
    serving_version: '1.9-0',
    model_file: 'model.joblib',
    created_at: '2026-11-26T19:40:00Z',
    created_by: 'tester',
    approval_status: 'PendingManualApproval',
    sample_input: SEED,
    ...extra
  };
}

export function endpoint(
  name: string,
  status: string,
  extra: Partial<Smops.IEndpoint> = {}
): Smops.IEndpoint {
  return {
    name,
    status,
    backend: 'local',
    model: 'iris',
    version: 1,
    created_at: '2026-11-26T19:41:00Z',
    url: 'http://127.0.0.1:40000',
    ...extra
  };
}

export const STATUS: Smops.IStatus = {
  version: '0.1.0',
  api_version: 1,
  backend: 'local',
  owner: 'tester',
  owner_tag_key: 'studiouserid',
  studio: { detected: false }
};

/** A client whose every call is a jest mock answering a small iris registry. */
export function mockClient(overrides: Partial<Record<keyof SmopsClient, unknown>> = {}) {
  const client = {
    status: jest.fn().mockResolvedValue(STATUS),
    models: jest.fn().mockResolvedValue([{ name: 'iris', versions: [version('iris', 1)] }]),
    endpoints: jest.fn().mockResolvedValue([]),
    logs: jest.fn().mockResolvedValue('started\nlistening'),
    invoke: jest.fn().mockResolvedValue({
      status: 200,
      body: '{"predictions": [0]}',
      contentType: 'application/json',
      latencyMs: 12.5
    }),
    ...overrides
  };
  return client as unknown as SmopsClient & typeof client;
}

export function mockActions(model: SmopsModel) {
  const actions = {
    model,
    deploy: jest.fn().mockResolvedValue(undefined),
    deleteEndpoint: jest.fn().mockResolvedValue(true),
    cleanup: jest.fn(),
    push: jest.fn(),
    validate: jest.fn(),
    report: jest.fn(),
    approve: jest.fn().mockResolvedValue(undefined)
  };
  return actions as unknown as SmopsActions & typeof actions;
}

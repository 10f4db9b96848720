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
    // One digest per version (the same short sha): identical pushes are opted into.
    sha256: 'ab12cd34ef56' + String(v).padStart(52, '0'),
    size: 2867,
    framework: 'sklearn',
    framework_version: '1.9.1',
    serving_version: '1.9-0',
    model_file: 'model.joblib',
    created_at: '2026-11-26T19:40:00Z',
    created_by: 'tester',
    source: null,
    approval_status: 'PendingManualApproval',
    sample_input: SEED,
    uri: '',
    model_package_arn: null,
    accepts: null,
    produces: null,
    ...extra
  };
}

export function endpoint(
  name: string,
  status: Smops.EndpointStatus,
  extra: Partial<Smops.IEndpoint> = {}
): Smops.IEndpoint {
  return {
    name,
    status,
    backend: 'local',
    model: 'iris',
    version: 1,
    created_at: '2026-11-26T19:41:00Z',
    owner: 'tester',
    instance_type: null,
    instance_count: null,
    max_count: null,
    serverless_memory_mb: null,
    url: 'http://127.0.0.1:40000',
    failure_reason: null,
    cost_per_hour: null,
    cost_so_far: null,
    image_uri: null,
    arn: null,
    expires_at: null,
    seconds_left: null,
    cost_until_expiry: null,
    public_url: null,
    ...extra
  };
}

/** A job as the server sends it. */
export function job(state: Smops.JobState, extra: Partial<Smops.IJob> = {}): Smops.IJob {
  return {
    id: 'abc123',
    kind: 'push',
    target: 'model:iris',
    state,
    phase: state === 'running' ? 'uploading' : 'done',
    progress: { done: 1, total: 2 },
    result: null,
    error: null,
    created_at: '2026-11-26T19:40:00Z',
    updated_at: '2026-11-26T19:40:00Z',
    finished_at: null,
    ...extra
  };
}

/** What jupyter_smops/core/rules.py answers on a default local server (status.rules). */
export const RULES: Smops.IRules = {
  serving_versions: ['0.20.0', '0.23-1', '1.0-1', '1.2-1', '1.4-2-py312', '1.9-0'],
  framework_version: '1.9.1',
  serving_version: '1.9-0',
  names: {
    pattern: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$',
    max_length: 63,
    description: '1-63 letters, digits and hyphens, starting and ending with a letter or digit',
    endpoint_default: '{model}-v{version}'
  },
  approval: { required: false, local_exempt: true },
  serverless_memory_mb: [1024, 2048, 3072, 4096, 5120, 6144],
  max_payload_bytes: 6291456,
  // SMOPS_DEFAULT_EXPIRES_IN's default (4h), no admin cap.
  expiry: { default_seconds: 14400, max_seconds: null, no_expiry_allowed: true }
};

export const STATUS: Smops.IStatus = {
  version: '0.1.0',
  api_version: 1,
  runtime_url: null,
  backend: 'local',
  configured_backend: 'auto',
  owner: 'tester',
  owner_tag_key: 'studiouserid',
  region: null,
  bucket: null,
  account: null,
  prefix: 'smops',
  home: '/home/tester/.smops',
  instance_type: 'ml.t2.medium',
  require_approval: false,
  studio: { detected: false, domain_id: null, user_profile_name: null, space_name: null },
  registry: { kind: 'local' },
  jobs_running: 0,
  framework_version: '1.9.1',
  instance_types: [],
  prices: { region: 'us-east-1', date: '2025-06-01', source: 'built in', fetched: false, note: '' },
  rules: RULES
};

/** A client whose every call is a jest mock answering a small iris registry. */
export function mockClient(overrides: Partial<Record<keyof SmopsClient, unknown>> = {}) {
  const client = {
    status: jest.fn().mockResolvedValue(STATUS),
    changes: jest.fn().mockResolvedValue({ stamp: 's1', covers: ['local_endpoints', 'registry'] }),
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
    approve: jest.fn().mockResolvedValue(undefined),
    reject: jest.fn().mockResolvedValue(undefined)
  };
  return actions as unknown as SmopsActions & typeof actions;
}

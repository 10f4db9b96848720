/**
 * The REST API's JSON shapes: one namespace mirroring jupyter_smops/core/types.py (and the
 * job and status documents of jupyter_smops/handlers). Names follow AWS where AWS has one.
 */
export namespace Smops {
  export type EndpointStatus =
    | 'Creating'
    | 'InService'
    | 'Failed'
    | 'Deleting'
    | 'Updating';

  export type ApprovalStatus = 'PendingManualApproval' | 'Approved' | 'Rejected';

  export type Backend = 'local' | 'aws';

  export interface IStudio {
    detected: boolean;
    domain_id?: string | null;
    user_profile_name?: string | null;
    space_name?: string | null;
  }

  /** An on-demand price, when the server publishes its price table. */
  export interface IInstancePrice {
    instance_type: string;
    hourly_usd: number;
  }

  /** GET /smops/api/status */
  export interface IStatus {
    version: string;
    api_version?: number;
    backend: Backend;
    configured_backend?: string;
    owner: string;
    owner_tag_key?: string;
    region?: string | null;
    account?: string | null;
    bucket?: string | null;
    prefix?: string;
    home?: string;
    instance_type?: string;
    require_approval?: boolean;
    studio?: IStudio;
    jobs_running?: number;
    /** Local scikit-learn version and the serving version it maps to, when known. */
    framework_version?: string | null;
    serving_version?: string | null;
    instance_types?: IInstancePrice[];
    /** Where instance_types' prices come from (built in, or read from the AWS Price List API). */
    prices?: IPriceSource;
  }

  export interface IPriceSource {
    region: string;
    date: string;
    source: string;
    fetched: boolean;
    note: string;
  }

  export interface ICheck {
    name: string;
    ok: boolean;
    message: string;
    severity: 'error' | 'warning' | string;
  }

  export interface IPackageResult {
    path: string;
    sha256: string;
    size: number;
    model_file: string;
    framework: string;
    framework_version: string | null;
    serving_version: string | null;
    checks: ICheck[];
    sample_input: unknown;
    ok: boolean;
  }

  export interface IModelVersion {
    name: string;
    version: number;
    sha256: string;
    size: number;
    framework: string;
    framework_version: string | null;
    serving_version: string | null;
    model_file: string;
    created_at: string;
    created_by: string;
    source?: string | null;
    approval_status: ApprovalStatus | string;
    sample_input?: unknown;
    uri?: string;
    model_package_arn?: string | null;
  }

  export interface IModel {
    name: string;
    /** Oldest first. */
    versions: IModelVersion[];
  }

  export interface IEndpoint {
    name: string;
    status: EndpointStatus | string;
    backend: Backend | string;
    model: string;
    version: number;
    created_at: string;
    owner?: string;
    instance_type?: string | null;
    instance_count?: number | null;
    max_count?: number | null;
    serverless_memory_mb?: number | null;
    url?: string | null;
    failure_reason?: string | null;
    cost_per_hour?: number | null;
    cost_so_far?: number | null;
    image_uri?: string | null;
    arn?: string | null;
  }

  export interface ICleanupResult {
    dry_run: boolean;
    endpoints: string[];
    endpoint_configs: string[];
    models: string[];
    registry_versions: string[];
    errors: string[];
  }

  export type JobState = 'running' | 'succeeded' | 'failed';

  export interface IErrorBody {
    code: string;
    message: string;
    details?: unknown;
  }

  export interface IJob {
    id: string;
    kind: string;
    target?: string | null;
    state: JobState;
    phase: string;
    progress: { done: number | null; total: number | null };
    result: unknown;
    error: IErrorBody | null;
    created_at: string;
    updated_at?: string;
    finished_at?: string | null;
  }

  /** POST /smops/api/models */
  export interface IPushRequest {
    path: string;
    name: string;
    inference?: string;
    requirements?: string;
    sample?: unknown;
  }

  /** POST /smops/api/endpoints */
  export interface IDeployRequest {
    model: string;
    version?: number;
    name?: string;
    instance_type?: string;
    count?: number;
    max_count?: number;
    serverless_memory_mb?: number;
    local?: boolean;
  }

  /** What the panel keeps of one request sent from "Test inference". */
  export interface IInvocation {
    endpoint: string;
    status: number;
    body: string;
    contentType: string;
    latencyMs: number;
    at: number;
  }

  /** A dialog body that yields a typed value (JupyterLab's Dialog.IBodyWidget shape). */
  export interface IDialogBody<T> {
    getValue(): T;
  }
}

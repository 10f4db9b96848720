import type { components, operations } from './generated/api';

/** The schemas of docs/openapi.yaml, as generated into src/generated/api.ts by `jlpm build:types`. */
type Schemas = components['schemas'];

/**
 * The REST API's JSON shapes. Every API type is an alias of the one generated from
 * docs/openapi.yaml (the single source; edit it, then `jlpm build:types`); only the panel's own
 * shapes (IInvocation, IDialogBody) are written here.
 */
export namespace Smops {
  export type EndpointStatus = Schemas['Endpoint']['status'];
  export type ApprovalStatus = Schemas['ModelVersion']['approval_status'];
  export type JobState = Schemas['Job']['state'];

  export type IInstancePrice = Schemas['InstancePrice'];
  /** The rules the core enforces (names, serving versions, approval, payload limit). */
  export type IRules = Schemas['Rules'];
  /** GET /smops/api/status */
  export type IStatus = Schemas['Status'];
  /** GET /smops/api/changes */
  export type IChanges = Schemas['Changes'];

  export type IPackageResult = Schemas['PackageResult'];
  export type IModelVersion = Schemas['ModelVersion'];
  export type IModel = Schemas['Model'];
  export type IEndpoint = Schemas['Endpoint'];
  export type ICleanupResult = Schemas['CleanupResult'];
  export type IErrorBody = Schemas['ErrorBody'];
  export type IJob = Schemas['Job'];

  export type IModelList = Schemas['ModelList'];
  export type IEndpointList = Schemas['EndpointList'];
  export type IEndpointLogs = Schemas['EndpointLogs'];
  export type IJobAccepted = Schemas['JobAccepted'];
  export type IPushAccepted = Schemas['PushAccepted'];
  export type IDeployAccepted = Schemas['DeployAccepted'];
  export type IEndpointJobAccepted = Schemas['EndpointJobAccepted'];

  /** POST /smops/api/models */
  export type IPushRequest = Schemas['PushRequest'];
  /** POST /smops/api/packages */
  export type IPackageRequest = Schemas['PackageRequest'];
  /** POST /smops/api/endpoints */
  export type IDeployRequest = Schemas['DeployRequest'];
  /** POST /smops/api/cleanup */
  export type ICleanupRequest = Schemas['CleanupRequest'];
  /** POST /smops/api/models/{name}/versions/{version}/approval */
  export type IApprovalRequest = Schemas['ApprovalRequest'];
  /** POST /smops/api/endpoints/{name}/expiry (exactly one of by, expires_in, no_expiry) */
  export type IExtendRequest = Schemas['ExtendRequest'];
  /** POST /smops/api/endpoints/{name}/public: the usage plan's limits */
  export type IExposeRequest = Schemas['ExposeRequest'];
  /** The answer of an expose: the public front (the key's value in it once), or for a local endpoint what it would be. */
  export type IPublicFront = Schemas['PublicFront'];
  /** DELETE /smops/api/endpoints/{name}/public */
  export type IUnexposeResult =
    operations['unexposeEndpoint']['responses'][200]['content']['application/json'];

  /** What the panel keeps of one request sent from "Test inference". */
  export interface IInvocation {
    endpoint: string;
    status: number;
    body: string;
    contentType: string;
    latencyMs: number;
    at: number;
    /** False for a request that failed (error status, or no answer: status 0). */
    ok?: boolean;
  }

  /** A dialog body that yields a typed value (JupyterLab's Dialog.IBodyWidget shape). */
  export interface IDialogBody<T> {
    getValue(): T;
  }
}

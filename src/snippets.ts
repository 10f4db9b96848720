import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';

export const JSON_TYPE = 'application/json';
export const CSV_TYPE = 'text/csv';
/** What the panel offers when the version does not say what it reads: text it can send. */
const ANY_TEXT = [JSON_TYPE, CSV_TYPE];
/** Bodies a text box cannot hold (the container's NPY, archives, images): never offered. */
const BINARY = /^(application\/(x-npy|x-npz|octet-stream|x-recordio-protobuf|x-image)|image\/|audio\/|video\/)/;

/** The request content types Test inference offers for a version, and a note about the choice. */
export interface IOffer {
  types: string[];
  /** Why these: a type the model reads that cannot be typed here, or not knowing what it reads. */
  note: string | null;
}

/**
 * The content types to offer for a version whose inference.py reads `accepts` (recorded at
 * push, null when unknown or pushed before jupyter_smops recorded it): those of them a text box
 * can hold, the version's own order kept (its first is the default).
 */
export function offeredTypes(
  accepts: string[] | null | undefined,
  trans: TranslationBundle = nullTrans
): IOffer {
  if (!accepts || !accepts.length) {
    return {
      types: ANY_TEXT,
      note: trans.__(
        'Which content types this version reads is not known (its inference.py does not say plainly, or it was pushed before they were recorded): all are offered.'
      )
    };
  }
  const types = accepts.filter(t => !BINARY.test(t));
  const binary = accepts.filter(t => BINARY.test(t));
  if (!types.length) {
    return {
      types: [],
      note: trans.__('This version reads only %1, which cannot be typed here: use one of the snippets.', binary.join(', '))
    };
  }
  return { types, note: null };
}

/** A content type's short name in the menu (JSON, CSV, or the type itself). */
export function typeLabel(contentType: string, trans: TranslationBundle = nullTrans): string {
  return contentType === JSON_TYPE
    ? trans.__('JSON')
    : contentType === CSV_TYPE
      ? trans.__('CSV')
      : contentType;
}

/** The version's sample input as the editor's starting text, in the chosen content type. */
export function sampleText(sample: unknown, contentType: string): string {
  const json = contentType.includes('json');
  if (sample === undefined || sample === null) {
    return json ? '{"instances": [[]]}' : '';
  }
  if (contentType === CSV_TYPE) {
    const rows = Array.isArray(sample)
      ? sample
      : ((sample as { instances?: unknown[] }).instances ?? []);
    return rows.map(r => (Array.isArray(r) ? r.join(',') : String(r))).join('\n');
  }
  return json ? JSON.stringify(sample) : '';
}

/** A copy-ready way to call an endpoint from outside the panel. */
export interface ISnippet {
  id: 'curl' | 'requests' | 'boto3';
  label: string;
  code: string;
}

/** What the server's status says about reaching endpoints (runtime_url: local ones via boto3). */
export interface IRuntimeFacts {
  region?: string | null;
  runtime_url?: string | null;
}

/** `'…'` for a shell: single quotes, with embedded ones closed, escaped and reopened. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A Python string literal (JSON's string escapes are valid Python). */
function pyString(text: string): string {
  return JSON.stringify(text);
}

/**
 * curl, `requests` and boto3 `sagemaker-runtime` snippets sending `body` to an endpoint:
 * a local endpoint through its own URL (127.0.0.1, this user only) or boto3 through the
 * server's runtime_url; a SageMaker endpoint through the signed runtime API (curl's
 * --aws-sigv4, boto3) or its public API Gateway front (`public_url`, with the API key).
 */
export function snippets(
  endpoint: Smops.IEndpoint,
  body: string,
  contentType: string,
  status: IRuntimeFacts | null,
  trans: TranslationBundle = nullTrans
): ISnippet[] {
  const out: ISnippet[] = [];
  const local = endpoint.backend === 'local';
  const region = status?.region || 'us-east-1';
  const data = shellQuote(body);
  if (local && endpoint.url) {
    const url = `${endpoint.url.replace(/\/$/, '')}/invocations`;
    out.push({
      id: 'curl',
      label: trans.__('curl'),
      code: `curl -s ${url} \\\n  -H 'Content-Type: ${contentType}' \\\n  --data-binary ${data}`
    });
    out.push({
      id: 'requests',
      label: trans.__('Python requests'),
      code:
        'import requests\n\n' +
        `response = requests.post(\n    ${pyString(url)},\n    data=${pyString(body)},\n` +
        `    headers={"Content-Type": ${pyString(contentType)}},\n    timeout=60,\n)\n` +
        'response.raise_for_status()\nprint(response.text)'
    });
  } else if (!local) {
    const url = `https://runtime.sagemaker.${region}.amazonaws.com/endpoints/${endpoint.name}/invocations`;
    out.push({
      id: 'curl',
      label: trans.__('curl'),
      code:
        `curl -s ${url} \\\n  --aws-sigv4 'aws:amz:${region}:sagemaker' \\\n` +
        `  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \\\n` +
        `  -H "x-amz-security-token: $AWS_SESSION_TOKEN" \\\n` +
        `  -H 'Content-Type: ${contentType}' \\\n  --data-binary ${data}`
    });
    const publicUrl = endpoint.public_url;
    if (publicUrl) {
      out.push({
        id: 'requests',
        label: trans.__('Python requests'),
        code:
          'import os\nimport requests\n\n' +
          `response = requests.post(\n    ${pyString(publicUrl)},\n    data=${pyString(body)},\n` +
          `    headers={"Content-Type": ${pyString(contentType)}, "x-api-key": os.environ["SMOPS_API_KEY"]},\n` +
          '    timeout=60,\n)\nresponse.raise_for_status()\nprint(response.text)'
      });
    }
  }
  const runtimeUrl: string | null = (local ? status?.runtime_url : null) ?? null;
  if (!local || runtimeUrl) {
    const client = local
      ? `boto3.client(\n    "sagemaker-runtime",\n    region_name=${pyString(region)},\n    endpoint_url=${pyString(runtimeUrl ?? '')},\n)`
      : `boto3.client("sagemaker-runtime", region_name=${pyString(region)})`;
    out.push({
      id: 'boto3',
      label: trans.__('boto3 sagemaker-runtime'),
      code:
        'import boto3\n\n' +
        `runtime = ${client}\n` +
        `response = runtime.invoke_endpoint(\n    EndpointName=${pyString(endpoint.name)},\n` +
        `    ContentType=${pyString(contentType)},\n    Body=${pyString(body)},\n)\n` +
        'print(response["Body"].read().decode())'
    });
  }
  return out;
}

/** Why `text` cannot be sent as `contentType`, or null (only JSON can be checked here). */
export function bodyProblem(
  text: string,
  contentType: string,
  trans: TranslationBundle = nullTrans
): string | null {
  if (contentType !== JSON_TYPE) {
    return text.trim() ? null : trans.__('The request body is empty.');
  }
  try {
    JSON.parse(text);
    return null;
  } catch (reason) {
    const detail = reason instanceof Error ? reason.message : String(reason);
    return trans.__(
      'The request body is not valid JSON (%1). Fix it before sending, e.g. %2.',
      detail,
      '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
    );
  }
}

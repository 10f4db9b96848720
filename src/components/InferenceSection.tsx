import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsApiError } from '../api';
import { SmopsModel } from '../model';
import { bodyProblem } from '../snippets';
import { Smops } from '../types';
import { LatencyChart } from './LatencyChart';
import { Snippets } from './Snippets';
import { SectionHead } from './SectionHead';

const JSON_TYPE = 'application/json';
const CSV_TYPE = 'text/csv';

/** The version's sample input as the editor's starting text, in the chosen content type. */
export function sampleText(sample: unknown, contentType: string): string {
  if (sample === undefined || sample === null) {
    return contentType === CSV_TYPE ? '' : '{"instances": [[]]}';
  }
  if (contentType === CSV_TYPE) {
    const rows = Array.isArray(sample)
      ? sample
      : ((sample as { instances?: unknown[] }).instances ?? []);
    return rows
      .map(r => (Array.isArray(r) ? r.join(',') : String(r)))
      .join('\n');
  }
  return JSON.stringify(sample);
}

/** Send a request to an InService endpoint and see the answer, status and latency. */
export function InferenceSection({ model }: { model: SmopsModel }): JSX.Element {
  const ready = model.endpoints.filter(e => e.status === 'InService');
  const endpoint = ready.find(e => e.name === model.selectedEndpoint) ?? ready[0];
  const [contentType, setContentType] = React.useState(JSON_TYPE);
  const [texts, setTexts] = React.useState<Record<string, string>>({});
  const [answer, setAnswer] = React.useState<Smops.IInvocation | null>(null);
  const [error, setError] = React.useState<SmopsApiError | null>(null);
  const [busy, setBusy] = React.useState(false);
  // Another endpoint's error says nothing about this one.
  React.useEffect(() => setError(null), [endpoint?.name]);

  const key = `${endpoint?.name}|${contentType}`;
  const sample = endpoint ? model.versionOf(endpoint)?.sample_input : undefined;
  const text = texts[key] ?? sampleText(sample, contentType);
  // The server's limit (status.rules): a larger body would only come back as a 413.
  const limit = model.status?.rules.max_payload_bytes;
  const size = limit === undefined ? 0 : new Blob([text]).size;
  const tooLarge =
    limit !== undefined && size > limit
      ? `The body is ${size.toLocaleString('en-US')} bytes; endpoints accept at most ` +
        `${limit.toLocaleString('en-US')}. Send fewer rows per request.`
      : null;

  // Checked here: a malformed body would only come back as the model's 500.
  const invalid = bodyProblem(text, contentType);

  const send = async () => {
    if (!endpoint || busy || invalid || tooLarge) {
      return;
    }
    setBusy(true);
    const start = performance.now();
    try {
      const response = await model.client.invoke(endpoint.name, text, contentType);
      const invocation = { endpoint: endpoint.name, ...response, at: Date.now(), ok: true };
      setAnswer(invocation);
      setError(null);
      model.addInvocation(invocation);
    } catch (reason) {
      const failure = SmopsApiError.from(reason);
      setError(failure);
      setAnswer(null);
      model.addInvocation({
        endpoint: endpoint.name,
        status: failure.status,
        body: failure.message,
        contentType: '',
        latencyMs: performance.now() - start,
        at: Date.now(),
        ok: false
      });
    } finally {
      setBusy(false);
    }
  };

  const requests = model.invocations.filter(i => !endpoint || i.endpoint === endpoint.name);
  return (
    <section className="jp-smops-section" aria-labelledby="jp-smops-test">
      <SectionHead id="jp-smops-test" title="Test inference" />
      {!endpoint ? (
        <p className="jp-smops-muted">No endpoint is InService yet.</p>
      ) : (
        <div className="jp-smops-form">
          <label>
            Endpoint
            <HTMLSelect
              aria-label="Endpoint to test"
              value={endpoint.name}
              onChange={e => model.selectEndpoint(e.currentTarget.value)}
              options={ready.map(e => e.name)}
            />
          </label>
          <label>
            Content type
            <HTMLSelect
              aria-label="Request content type"
              value={contentType}
              onChange={e => setContentType(e.currentTarget.value)}
              options={[
                { value: JSON_TYPE, label: 'JSON' },
                { value: CSV_TYPE, label: 'CSV' }
              ]}
            />
          </label>
          <label>
            Request body
            <textarea
              className="jp-mod-styled jp-smops-editor"
              aria-label="Request body"
              spellCheck={false}
              rows={4}
              value={text}
              aria-invalid={!!invalid || undefined}
              aria-describedby={invalid ? 'jp-smops-body-problem' : undefined}
              title="Ctrl+Enter (⌘+Enter) sends"
              onChange={e => {
                const value = e.currentTarget.value;
                setTexts(t => ({ ...t, [key]: value }));
              }}
              onKeyDown={e => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  void send();
                }
              }}
            />
          </label>
          {invalid && (
            <div className="jp-smops-field-error" id="jp-smops-body-problem" role="alert">
              {invalid}
            </div>
          )}
          {tooLarge && <div className="jp-smops-field-error">{tooLarge}</div>}
          <Button
            className="jp-smops-primary"
            onClick={() => void send()}
            disabled={busy || !!tooLarge || !!invalid}
            aria-label="Send request"
            title="Send (Ctrl+Enter)"
          >
            {busy ? 'Sending…' : 'Send'}
          </Button>
          {answer && answer.endpoint === endpoint.name && (
            <div className="jp-smops-response" aria-live="polite">
              <div className="jp-smops-muted">
                HTTP <span data-testid="smops-response-status">{answer.status}</span> ·{' '}
                {answer.latencyMs.toFixed(1)} ms · {answer.contentType}
              </div>
              <pre data-testid="smops-response-body">{answer.body}</pre>
            </div>
          )}
          {error && (
            <div className="jp-smops-banner jp-smops-error" role="alert">
              {error.status ? `HTTP ${error.status} · ` : ''}
              {error.message}
            </div>
          )}
          <LatencyChart requests={requests} />
          <Snippets endpoint={endpoint} body={text} contentType={contentType} status={model.status} />
        </div>
      )}
    </section>
  );
}

import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SmopsApiError } from '../api';
import { SmopsModel } from '../model';
import { bodyProblem, JSON_TYPE, offeredTypes, sampleText, typeLabel } from '../snippets';
import { useTrans } from '../trans';
import { Smops } from '../types';
import { LatencyChart } from './LatencyChart';
import { Snippets } from './Snippets';
import { SectionHead } from './SectionHead';

export { sampleText };

/**
 * Send a request to an InService endpoint and see the answer, status and latency. The content
 * types offered are those the deployed version's inference.py reads (recorded at push); all
 * of them when that is not known.
 */
export function InferenceSection({ model }: { model: SmopsModel }): JSX.Element {
  const trans = useTrans();
  const ready = model.endpoints.filter(e => e.status === 'InService');
  const endpoint = ready.find(e => e.name === model.selectedEndpoint) ?? ready[0];
  const version = endpoint ? model.versionOf(endpoint) : undefined;
  const offer = offeredTypes(version?.accepts, trans);
  const [chosen, setChosen] = React.useState<string | null>(null);
  // Another endpoint's choice stands only if this one's model reads it too; else its first type.
  const contentType =
    chosen !== null && offer.types.includes(chosen) ? chosen : (offer.types[0] ?? JSON_TYPE);
  const [texts, setTexts] = React.useState<Record<string, string>>({});
  const [answer, setAnswer] = React.useState<Smops.IInvocation | null>(null);
  const [error, setError] = React.useState<SmopsApiError | null>(null);
  const [busy, setBusy] = React.useState(false);
  // Another endpoint's error says nothing about this one.
  React.useEffect(() => setError(null), [endpoint?.name]);

  const key = `${endpoint?.name}|${contentType}`;
  const sample = version?.sample_input;
  const text = texts[key] ?? sampleText(sample, contentType);
  // The server's limit (status.rules): a larger body would only come back as a 413.
  const limit = model.status?.rules.max_payload_bytes;
  const size = limit === undefined ? 0 : new Blob([text]).size;
  const tooLarge =
    limit !== undefined && size > limit
      ? trans.__(
          'The body is %1 bytes; endpoints accept at most %2. Send fewer rows per request.',
          size.toLocaleString('en-US'),
          limit.toLocaleString('en-US')
        )
      : null;

  // Checked here: a malformed body would only come back as the model's 500.
  const invalid = bodyProblem(text, contentType, trans);
  const cannotSend = !offer.types.length;

  const send = async () => {
    if (!endpoint || busy || invalid || tooLarge || cannotSend) {
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
      <SectionHead id="jp-smops-test" title={trans.__('Test inference')} />
      {!endpoint ? (
        <p className="jp-smops-muted">{trans.__('No endpoint is InService yet.')}</p>
      ) : (
        <div className="jp-smops-form">
          <label>
            {trans.__('Endpoint')}
            <HTMLSelect
              aria-label={trans.__('Endpoint to test')}
              value={endpoint.name}
              onChange={e => model.selectEndpoint(e.currentTarget.value)}
              options={ready.map(e => e.name)}
            />
          </label>
          <label>
            {trans.__('Content type')}
            <HTMLSelect
              aria-label={trans.__('Request content type')}
              aria-describedby="jp-smops-types-note"
              value={contentType}
              onChange={e => setChosen(e.currentTarget.value)}
              options={offer.types.map(t => ({ value: t, label: typeLabel(t, trans) }))}
            />
          </label>
          <div className="jp-smops-muted" id="jp-smops-types-note" data-testid="smops-types-note">
            {offer.note ??
              trans.__(
                '%1 accepts %2 (read from its inference.py at push).',
                `${endpoint.model}:${endpoint.version}`,
                (version?.accepts ?? offer.types).join(', ')
              )}
          </div>
          <label>
            {trans.__('Request body')}
            <textarea
              className="jp-mod-styled jp-smops-editor"
              aria-label={trans.__('Request body')}
              spellCheck={false}
              rows={4}
              value={text}
              aria-invalid={!!invalid || undefined}
              aria-describedby={invalid ? 'jp-smops-body-problem' : undefined}
              title={trans.__('Ctrl+Enter (⌘+Enter) sends')}
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
            disabled={busy || !!tooLarge || !!invalid || cannotSend}
            aria-label={trans.__('Send request')}
            title={trans.__('Send (Ctrl+Enter)')}
          >
            {busy ? trans.__('Sending…') : trans.__('Send')}
          </Button>
          {answer && answer.endpoint === endpoint.name && (
            <div className="jp-smops-response" aria-live="polite">
              <div className="jp-smops-muted">
                {trans.__('HTTP')} <span data-testid="smops-response-status">{answer.status}</span> ·{' '}
                {trans.__('%1 ms', answer.latencyMs.toFixed(1))} · {answer.contentType}
              </div>
              <pre data-testid="smops-response-body">{answer.body}</pre>
            </div>
          )}
          {error && (
            <div className="jp-smops-banner jp-smops-error" role="alert">
              {error.status ? trans.__('HTTP %1 · ', error.status) : ''}
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

import { Clipboard } from '@jupyterlab/apputils';
import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IRuntimeFacts, snippets } from '../snippets';
import { Smops } from '../types';

/** The request as copy-ready code: curl, Python requests, boto3 sagemaker-runtime. */
export function Snippets(props: {
  endpoint: Smops.IEndpoint;
  body: string;
  contentType: string;
  status: Smops.IStatus | null;
}): JSX.Element | null {
  const facts: IRuntimeFacts | null = props.status;
  const all = snippets(props.endpoint, props.body, props.contentType, facts);
  const [choice, setChoice] = React.useState<string>('curl');
  const [copied, setCopied] = React.useState(false);
  if (!all.length) {
    return null;
  }
  const current = all.find(s => s.id === choice) ?? all[0];
  return (
    <details className="jp-smops-snippets">
      <summary>Code to call {props.endpoint.name}</summary>
      <div className="jp-smops-actions">
        <HTMLSelect
          aria-label="Snippet language"
          value={current.id}
          onChange={e => {
            setChoice(e.currentTarget.value);
            setCopied(false);
          }}
          options={all.map(s => ({ value: s.id, label: s.label }))}
        />
        <Button
          small
          onClick={() => {
            Clipboard.copyToSystem(current.code);
            setCopied(true);
          }}
          aria-label={`Copy the ${current.label} snippet`}
        >
          {copied ? 'Copied' : 'Copy'}
        </Button>
      </div>
      <pre className="jp-smops-logs" data-testid="smops-snippet" tabIndex={0}>
        {current.code}
      </pre>
    </details>
  );
}

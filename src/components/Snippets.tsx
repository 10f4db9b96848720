import { Clipboard } from '@jupyterlab/apputils';
import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IRuntimeFacts, snippets } from '../snippets';
import { useTrans } from '../trans';
import { Smops } from '../types';

/** The request as copy-ready code: curl, Python requests, boto3 sagemaker-runtime. */
export function Snippets(props: {
  endpoint: Smops.IEndpoint;
  body: string;
  contentType: string;
  status: Smops.IStatus | null;
}): JSX.Element | null {
  const trans = useTrans();
  const facts: IRuntimeFacts | null = props.status;
  const all = snippets(props.endpoint, props.body, props.contentType, facts, trans);
  const [choice, setChoice] = React.useState<string>('curl');
  const [copied, setCopied] = React.useState(false);
  if (!all.length) {
    return null;
  }
  const current = all.find(s => s.id === choice) ?? all[0];
  return (
    <details className="jp-smops-snippets">
      <summary>{trans.__('Code to call %1', props.endpoint.name)}</summary>
      <div className="jp-smops-actions">
        <HTMLSelect
          aria-label={trans.__('Snippet language')}
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
          aria-label={trans.__('Copy the %1 snippet', current.label)}
        >
          {copied ? trans.__('Copied') : trans.__('Copy')}
        </Button>
      </div>
      <pre className="jp-smops-logs" data-testid="smops-snippet" tabIndex={0}>
        {current.code}
      </pre>
    </details>
  );
}

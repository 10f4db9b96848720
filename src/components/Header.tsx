import * as React from 'react';

import { SmopsModel } from '../model';
import { ISmopsSettings } from '../settings';

/** Where things go: backend, region/account, owner, bucket, Studio profile; or why not. */
export function Header({
  model,
  settings
}: {
  model: SmopsModel;
  settings: ISmopsSettings;
}): JSX.Element {
  const { status, statusError, versionMismatch } = model;
  if (statusError) {
    return (
      <div className="jp-smops-banner jp-smops-error" role="alert">
        <strong>The SageMaker MLOps server extension is not available.</strong>{' '}
        {statusError.message}
      </div>
    );
  }
  if (!status) {
    return <div className="jp-smops-muted">Connecting to the server…</div>;
  }
  const aws = status.backend === 'aws';
  const studio = status.studio;
  const expectations = [
    aws && settings.bucket && status.bucket && settings.bucket !== status.bucket
      ? `the server uses bucket ${status.bucket}, not ${settings.bucket}`
      : null,
    settings.ownerTagKey &&
    status.owner_tag_key &&
    settings.ownerTagKey !== status.owner_tag_key
      ? `the server tags owners with ${status.owner_tag_key}, not ${settings.ownerTagKey}`
      : null
  ].filter(Boolean);
  return (
    <div className="jp-smops-header" aria-label="Backend">
      {versionMismatch && (
        <div className="jp-smops-banner jp-smops-warning" role="alert">
          {versionMismatch}
        </div>
      )}
      {expectations.length > 0 && (
        <div className="jp-smops-banner jp-smops-warning" role="alert">
          Settings differ from the server: {expectations.join('; ')}. Set SMOPS_BUCKET /
          SMOPS_OWNER_TAG_KEY for the server, or change the panel settings.
        </div>
      )}
      <dl className="jp-smops-facts">
        <dt>Backend</dt>
        <dd data-testid="smops-backend">
          {aws ? `AWS ${status.region ?? ''}` : 'Local'}
        </dd>
        {aws && status.account && (
          <>
            <dt>Account</dt>
            <dd>{status.account}</dd>
          </>
        )}
        <dt>Owner</dt>
        <dd>{status.owner || '—'}</dd>
        {aws && (
          <>
            <dt>Bucket</dt>
            <dd>{status.bucket || '—'}</dd>
          </>
        )}
        {studio?.detected && (
          <>
            <dt>Studio</dt>
            <dd>
              {studio.domain_id} / {studio.user_profile_name}
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}

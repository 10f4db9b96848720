import * as React from 'react';

import { SmopsModel } from '../model';
import { ISmopsSettings } from '../settings';
import { useTrans } from '../trans';

/** Where things go: backend, region/account, owner, bucket, Studio profile; or why not. */
export function Header({
  model,
  settings
}: {
  model: SmopsModel;
  settings: ISmopsSettings;
}): JSX.Element {
  const trans = useTrans();
  const { status, statusError, versionMismatch } = model;
  if (statusError) {
    return (
      <div className="jp-smops-banner jp-smops-error" role="alert">
        <strong>{trans.__('The SageMaker MLOps server extension is not available.')}</strong>{' '}
        {statusError.message}
      </div>
    );
  }
  if (!status) {
    return <div className="jp-smops-muted">{trans.__('Connecting to the server…')}</div>;
  }
  const aws = status.backend === 'aws';
  const studio = status.studio;
  const expectations = [
    aws && settings.bucket && status.bucket && settings.bucket !== status.bucket
      ? trans.__('the server uses bucket %1, not %2', status.bucket, settings.bucket)
      : null,
    settings.ownerTagKey &&
    status.owner_tag_key &&
    settings.ownerTagKey !== status.owner_tag_key
      ? trans.__(
          'the server tags owners with %1, not %2',
          status.owner_tag_key,
          settings.ownerTagKey
        )
      : null
  ].filter(Boolean);
  return (
    <div className="jp-smops-header" aria-label={trans.__('Backend')}>
      {versionMismatch && (
        <div className="jp-smops-banner jp-smops-warning" role="alert">
          {versionMismatch}
        </div>
      )}
      {expectations.length > 0 && (
        <div className="jp-smops-banner jp-smops-warning" role="alert">
          {trans.__(
            'Settings differ from the server: %1. Set %2 for the server, or change the panel settings.',
            expectations.join('; '),
            'SMOPS_BUCKET / SMOPS_OWNER_TAG_KEY'
          )}
        </div>
      )}
      <dl className="jp-smops-facts">
        <dt>{trans.__('Backend')}</dt>
        <dd data-testid="smops-backend">
          {aws ? trans.__('AWS %1', status.region ?? '').trim() : trans.__('Local')}
        </dd>
        {aws && status.account && (
          <>
            <dt>{trans.__('Account')}</dt>
            <dd>{status.account}</dd>
          </>
        )}
        <dt>{trans.__('Owner')}</dt>
        <dd>{status.owner || '—'}</dd>
        {aws && (
          <>
            <dt>{trans.__('Bucket')}</dt>
            <dd>{status.bucket || '—'}</dd>
          </>
        )}
        {studio?.detected && (
          <>
            <dt>{trans.__('Studio')}</dt>
            <dd>{trans.__('%1 / %2', studio.domain_id ?? '', studio.user_profile_name ?? '')}</dd>
          </>
        )}
      </dl>
    </div>
  );
}

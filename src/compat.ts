import { Smops } from './types';

/** "1.2.2" or "1.2-1" → "1.2". */
function minor(version: string | null | undefined): string | null {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  return match ? `${match[1]}.${match[2]}` : null;
}

/**
 * Why this version may not load where it is about to run, or null. Checked before deploy:
 * a pickle from one scikit-learn minor version often fails (or silently differs) on another.
 * The local scikit-learn version and the serving images come from the server's rules
 * (`status.rules`), never from a list kept here.
 */
export function frameworkWarning(
  version: Smops.IModelVersion,
  local: boolean,
  rules?: Smops.IRules | null
): string | null {
  const trained = version.framework_version;
  if (local) {
    const here = rules?.framework_version;
    if (trained && here && minor(trained) !== minor(here)) {
      return (
        `${version.name}:${version.version} was trained with scikit-learn ${trained}, but the ` +
        `local endpoint runs ${here}. It may fail to load or predict ` +
        'differently; retrain with the local version or deploy to SageMaker.'
      );
    }
    return null;
  }
  if (!version.serving_version) {
    const available = rules?.serving_versions.length
      ? ` (available: ${rules.serving_versions.join(', ')})`
      : '';
    return (
      `scikit-learn ${trained ?? '(unknown version)'} has no SageMaker scikit-learn serving ` +
      `image${available}. Retrain with one of those versions, or deploy locally.`
    );
  }
  if (trained && minor(trained) !== minor(version.serving_version)) {
    return (
      `${version.name}:${version.version} was trained with scikit-learn ${trained}; the ` +
      `SageMaker image runs ${version.serving_version}. It may fail to load or predict ` +
      'differently: retrain with a matching version before relying on it.'
    );
  }
  return null;
}

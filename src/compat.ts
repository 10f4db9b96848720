import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';

/** "1.2.2" or "1.2-1" → "1.2". */
function minor(version: string | null | undefined): string | null {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  return match ? `${match[1]}.${match[2]}` : null;
}

/**
 * What a deploy of this version will run when that is not simply "the model's own
 * scikit-learn", or null. Said before deploy, from what push recorded and the server's rules
 * (`status.rules`), never from a list kept here. It follows the core (core/deploy_plan.py
 * serving_plan, core/packaging/requirements.py decide):
 * - local: the endpoint runs this environment's scikit-learn;
 * - a scikit-learn with no serving image is pushed with `scikit-learn==<trained>` in
 *   code/requirements.txt (`requirements_pin`, `pin_added`) and served on the nearest image
 *   (`serving_version`), which installs it at start: it needs a package index;
 * - no serving image and no pin (pushed before pinning): push again, or deploy locally;
 * - an image of another minor without a pin (chosen with --framework-version at push): the
 *   image's own scikit-learn, under which push validated it.
 */
export function frameworkWarning(
  version: Smops.IModelVersion,
  local: boolean,
  rules?: Smops.IRules | null,
  trans: TranslationBundle = nullTrans
): string | null {
  const trained = version.framework_version;
  const ref = `${version.name}:${version.version}`;
  if (local) {
    const here = rules?.framework_version;
    if (trained && here && minor(trained) !== minor(here)) {
      return trans.__(
        '%1 was trained with scikit-learn %2, but the local endpoint runs %3. It may fail to load or predict differently; retrain with the local version or deploy to SageMaker.',
        ref,
        trained,
        here
      );
    }
    return null;
  }
  const serving = version.serving_version;
  const pin = version.requirements_pin;
  if (!serving) {
    if (pin) {
      return trans.__(
        'No serving image that SageMaker lists can install scikit-learn %1 (its Python is too old). Deploy with --image-uri (CLI or %%smops) naming a newer scikit-learn image, or deploy locally.',
        pin
      );
    }
    if (!trained) {
      return trans.__(
        'The scikit-learn version %1 was pickled with is unknown, so no SageMaker serving image was chosen for it. Push it again from an environment where it loads, or deploy locally.',
        ref
      );
    }
    const available = rules?.serving_versions.length
      ? trans.__(' (images exist for %1)', rules.serving_versions.join(', '))
      : '';
    return trans.__(
      'scikit-learn %1 has no SageMaker scikit-learn serving image%2. Push the model again (push now pins scikit-learn==%1 in code/requirements.txt, which the image installs at start), or deploy locally.',
      trained,
      available
    );
  }
  if (pin && minor(pin) !== minor(serving)) {
    return version.pin_added
      ? trans.__(
          'scikit-learn %1 has no SageMaker image: %2 deploys on the %3 image with scikit-learn==%1 pinned, which the endpoint installs at start. It must reach a package index (PyPI or a mirror) and starts slower.',
          pin,
          ref,
          serving
        )
      : trans.__(
          '%1 deploys on the %2 image with scikit-learn==%3 pinned by its requirements.txt, which the endpoint installs at start. It must reach a package index (PyPI or a mirror) and starts slower.',
          ref,
          serving,
          pin
        );
  }
  if (!pin && trained && minor(trained) !== minor(serving)) {
    return trans.__(
      '%1 was pickled with scikit-learn %2; the %3 image runs its own scikit-learn %4.x. Check that it loads and predicts the same under that version before relying on it.',
      ref,
      trained,
      serving,
      minor(serving) ?? '?'
    );
  }
  return null;
}

import { frameworkWarning } from '../compat';
import { humanSize, nameProblem, suggestEndpointName } from '../format';
import { nameFromPath } from '../pushDialog';
import { FRONTEND_VERSION } from '../version';
import { RULES, version } from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const pkg = require('../../package.json');

describe('version', () => {
  it('matches package.json, which the Python package takes its version from', () => {
    expect(FRONTEND_VERSION).toBe(pkg.version);
  });
});

describe('frameworkWarning (versions from the server rules)', () => {
  it('is silent when the model matches the serving image', () => {
    expect(frameworkWarning(version('iris', 1), false, RULES)).toBeNull();
  });

  it("lists the server's serving versions when no SageMaker image exists for the version", () => {
    const v = version('iris', 1, { framework_version: '1.5.2', serving_version: null });
    const text = frameworkWarning(v, false, RULES);
    expect(text).toMatch(/scikit-learn 1\.5\.2 has no SageMaker/);
    expect(text).toContain('(images exist for 0.20.0, 0.23-1, 1.0-1, 1.2-1, 1.4-2-py312, 1.9-0)');
    // Pushed before push pinned: pushing again is what fixes it (push adds the pin now).
    expect(text).toContain('Push the model again (push now pins scikit-learn==1.5.2');
    // Another server, another list: nothing is hard-coded in the panel.
    const other = { ...RULES, serving_versions: ['1.2-1', '2.0-0'] };
    expect(frameworkWarning(v, false, other)).toContain('(images exist for 1.2-1, 2.0-0)');
    expect(frameworkWarning(v, false, other)).not.toContain('1.9-0');
    // Before the status is known: the warning without a list.
    expect(frameworkWarning(v, false, null)).not.toContain('images exist');
  });

  it('warns when the image runs another minor version without a pin', () => {
    const v = version('iris', 1, { framework_version: '1.3.0', serving_version: '1.2-1' });
    expect(frameworkWarning(v, false, RULES)).toMatch(
      /pickled with scikit-learn 1\.3\.0; the 1\.2-1 image runs its own scikit-learn 1\.2\.x/
    );
  });

  // What core/packaging/requirements.py decide() records for a version with no image of its
  // own (core/deploy_plan.py serving_plan says the same): the nearest image, the pin added.
  it('says a version without an image deploys on the nearest one with its scikit-learn pinned', () => {
    const v = version('iris', 3, {
      framework_version: '1.7.2',
      serving_version: '1.4-2-py312',
      requirements: ['scikit-learn==1.7.2'],
      requirements_pin: '1.7.2',
      pin_added: true
    });
    const text = frameworkWarning(v, false, RULES)!;
    expect(text).toBe(
      'scikit-learn 1.7.2 has no SageMaker image: iris:3 deploys on the 1.4-2-py312 image with ' +
        'scikit-learn==1.7.2 pinned, which the endpoint installs at start. It must reach a package ' +
        'index (PyPI or a mirror) and starts slower.'
    );
    // Not the old, false advice: the model does not load under 1.4.
    expect(text).not.toMatch(/retrain|may fail to load/i);
    // The user's own pin: the same facts, without claiming jupyter_smops added it.
    const own = frameworkWarning({ ...v, pin_added: false }, false, RULES)!;
    expect(own).toMatch(/iris:3 deploys on the 1\.4-2-py312 image with scikit-learn==1\.7\.2 pinned by its requirements\.txt/);
    // A pin of the image's own minor is nothing to warn about.
    const same = { ...v, framework_version: '1.9.1', serving_version: '1.9-0', requirements_pin: '1.9.1', pin_added: false };
    expect(frameworkWarning(same, false, RULES)).toBeNull();
    // Pinned, but no listed image can install it: --image-uri, or local.
    const none = frameworkWarning({ ...v, serving_version: null }, false, RULES)!;
    expect(none).toMatch(/No serving image that SageMaker lists can install scikit-learn 1\.7\.2.*--image-uri/);
    // Local deploys run this environment's scikit-learn whatever the pin.
    expect(frameworkWarning(v, true, RULES)).toMatch(/local endpoint runs 1\.9\.1/);
  });

  it("compares with the server's scikit-learn for local deploys", () => {
    const v = version('iris', 1, { framework_version: '1.4.2' });
    expect(frameworkWarning(v, true, RULES)).toMatch(/local endpoint runs 1\.9\.1/);
    expect(frameworkWarning(v, true, { ...RULES, framework_version: '1.4.0' })).toBeNull();
    expect(frameworkWarning(v, true, null)).toBeNull();
  });
});

describe('names (rule from the server) and sizes', () => {
  it("suggests the server's default endpoint name, cut to its maximum length", () => {
    expect(suggestEndpointName('iris', 3, RULES.names)).toBe('iris-v3');
    expect(suggestEndpointName('m'.repeat(62), 3, RULES.names)).toBe('m'.repeat(62));
    expect(suggestEndpointName('iris', 3, { ...RULES.names, endpoint_default: '{model}-{version}-ep' })).toBe(
      'iris-3-ep'
    );
    expect(suggestEndpointName('iris', 3, undefined)).toBeNull();
  });

  it("checks names with the server's pattern and describes its rule", () => {
    expect(nameProblem('iris-v3', RULES.names)).toBeNull();
    expect(nameProblem('iris_v3', RULES.names)).toBe(`Use ${RULES.names.description}.`);
    expect(nameProblem('-iris', RULES.names)).not.toBeNull();
    expect(nameProblem('a'.repeat(63), RULES.names)).toBeNull();
    expect(nameProblem('a'.repeat(64), RULES.names)).not.toBeNull();
    expect(nameProblem('', RULES.names)).toBe('Give the endpoint a name.');
    // The pattern is the server's: a stricter one is applied as sent.
    const strict = { ...RULES.names, pattern: '^[a-z]+$', description: 'lower-case letters' };
    expect(nameProblem('iris-v3', strict)).toBe('Use lower-case letters.');
  });

  it('derives a registry name from a file name', () => {
    expect(nameFromPath('work/iris-model.joblib')).toBe('iris-model');
    expect(nameFromPath('my model_v2.pkl')).toBe('my-model-v2');
  });

  it('formats sizes', () => {
    expect(humanSize(512)).toBe('512 B');
    expect(humanSize(2867)).toBe('2.8 KB');
  });
});

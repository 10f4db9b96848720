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
    expect(text).toContain('(available: 0.20.0, 0.23-1, 1.0-1, 1.2-1, 1.4-2-py312, 1.9-0)');
    // Another server, another list: nothing is hard-coded in the panel.
    const other = { ...RULES, serving_versions: ['1.2-1', '2.0-0'] };
    expect(frameworkWarning(v, false, other)).toContain('(available: 1.2-1, 2.0-0)');
    expect(frameworkWarning(v, false, other)).not.toContain('1.9-0');
    // Before the status is known: the warning without a list.
    expect(frameworkWarning(v, false, null)).not.toContain('available');
  });

  it('warns when the image runs another minor version', () => {
    const v = version('iris', 1, { framework_version: '1.3.0', serving_version: '1.2-1' });
    expect(frameworkWarning(v, false, RULES)).toMatch(/trained with scikit-learn 1\.3\.0.*runs 1\.2-1/);
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

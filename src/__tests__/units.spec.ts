import { frameworkWarning } from '../compat';
import { endpointNameProblem, humanSize, suggestEndpointName } from '../format';
import { nameFromPath } from '../pushDialog';
import { FRONTEND_VERSION } from '../version';
import { version } from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const pkg = require('../../package.json');

describe('version', () => {
  it('matches package.json, which the Python package takes its version from', () => {
    expect(FRONTEND_VERSION).toBe(pkg.version);
  });
});

describe('frameworkWarning', () => {
  it('is silent when the model matches the serving image', () => {
    expect(frameworkWarning(version('iris', 1), false)).toBeNull();
  });

  it('warns when no SageMaker image exists for the version', () => {
    const v = version('iris', 1, { framework_version: '1.5.2', serving_version: null });
    expect(frameworkWarning(v, false)).toMatch(/scikit-learn 1\.5\.2 has no SageMaker/);
  });

  it('warns when the image runs another minor version', () => {
    const v = version('iris', 1, { framework_version: '1.3.0', serving_version: '1.2-1' });
    expect(frameworkWarning(v, false)).toMatch(/trained with scikit-learn 1\.3\.0.*runs 1\.2-1/);
  });

  it('compares with the server scikit-learn for local deploys', () => {
    const v = version('iris', 1, { framework_version: '1.4.2' });
    expect(frameworkWarning(v, true, '1.9.1')).toMatch(/local endpoint runs 1\.9\.1/);
    expect(frameworkWarning(v, true, '1.4.0')).toBeNull();
  });
});

describe('names and sizes', () => {
  it('suggests the core endpoint name and checks SageMaker rules', () => {
    expect(suggestEndpointName('iris', 3)).toBe('iris-v3');
    expect(endpointNameProblem('iris-v3')).toBeNull();
    expect(endpointNameProblem('iris_v3')).toMatch(/letters, digits and hyphens/);
    expect(endpointNameProblem('-iris')).not.toBeNull();
    expect(endpointNameProblem('a'.repeat(64))).not.toBeNull();
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

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

/** `jlpm build:types`'s generator arguments, read from package.json so the check uses the same. */
function buildTypesArgs(): { args: string[]; output: string } {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const words: string[] = pkg.scripts['build:types'].split(/\s+/);
  expect(words[0]).toBe('openapi-typescript');
  const at = words.indexOf('--output');
  const output = words[at + 1];
  const args = words.slice(1).filter((_, i) => i + 1 !== at && i + 1 !== at + 1);
  return { args, output };
}

describe('src/generated/api.ts', () => {
  it('is what docs/openapi.yaml generates (run `jlpm build:types` after editing the spec)', () => {
    const { args, output } = buildTypesArgs();
    const cli = path.join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
    const fresh = execFileSync(process.execPath, [cli, ...args], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore']
    });
    const committed = fs.readFileSync(path.join(root, output), 'utf8');
    expect(committed === fresh).toBe(true);
  });
});

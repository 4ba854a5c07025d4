/**
 * The bad-input corpus: every kind of broken pipeline the validator handles,
 * with the exact code, line and column users see, and the `validate` command's
 * behaviour on it (exit 78, lint lines on stdout, no stack trace).
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPipelineFile, loadPipeline } from '../../lib/config/load.js';
import { ConfigProblems } from '../../lib/errors.js';
import { cli } from '../helpers/io.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = 'test/fixtures/bad-pipelines';
const env = { SCIM_ETL_TEST: '1' };

/** file → every problem expected, as "CODE line:col". */
const EXPECTED: Record<string, string[]> = {
  'unknown-key.yaml': ['ERR_CONFIG_UNKNOWN_KEY 4:3'],
  // A billion-laughs alias bomb: the reader walks the YAML tree and never expands aliases, so this is one quick type error.
  'alias-bomb.yaml': ['ERR_CONFIG_TYPE 8:5'],
  'unknown-entity-key.yaml': ['ERR_CONFIG_UNKNOWN_KEY 8:7'],
  'wrong-type.yaml': ['ERR_CONFIG_TYPE 5:13'],
  'bad-identifier.yaml': ['ERR_CONFIG_IDENTIFIER 3:19'],
  'identifier-starts-with-digit.yaml': ['ERR_CONFIG_IDENTIFIER 3:15'],
  'unbalanced-filter.yaml': ['ERR_FILTER_SYNTAX 8:50'],
  'bad-column-path.yaml': ['ERR_PATH_SYNTAX 8:26'],
  'bad-value-filter-column.yaml': ['ERR_PATH_SYNTAX 10:17'],
  'missing-variable.yaml': ['ERR_CONFIG_MISSING_VARIABLE 4:11', 'ERR_CONFIG_MISSING_VARIABLE 5:22'],
  'bad-interpolation.yaml': ['ERR_CONFIG_INTERPOLATION 4:11'],
  'yaml-syntax.yaml': ['ERR_YAML_SYNTAX 9:5'],
  'duplicate-entity.yaml': ['ERR_CONFIG_DUPLICATE_ENTITY 9:5'],
  'duplicate-key.yaml': ['ERR_CONFIG_DUPLICATE_KEY 5:3'],
  'duplicate-column.yaml': ['ERR_CONFIG_DUPLICATE_COLUMN 8:31'],
  'not-a-mapping.yaml': ['ERR_CONFIG_NOT_A_PIPELINE 1:1'],
  'scalar.yaml': ['ERR_CONFIG_NOT_A_PIPELINE 1:1'],
  'json-array.json': ['ERR_CONFIG_NOT_A_PIPELINE 1:1'],
  'empty.yaml': ['ERR_CONFIG_NOT_A_PIPELINE 1:1'],
  'binary.yaml': ['ERR_CONFIG_NOT_A_PIPELINE 1:1'],
  'server-not-url.yaml': ['ERR_CONFIG_SERVER 4:11'],
  'credentials-in-url.yaml': ['ERR_CONFIG_SERVER 4:11'],
  'missing-server.yaml': ['ERR_CONFIG_MISSING_KEY 2:1'],
  'missing-columns.yaml': ['ERR_CONFIG_MISSING_KEY 7:5'],
  'bad-seed-filter.yaml': ['ERR_FILTER_SYNTAX 5:46'],
  'bad-seed-column.yaml': ['ERR_PATH_SYNTAX 5:35'],
  'unknown-dialect.yaml': ['ERR_CONFIG_TYPE 5:15'],
  'bad-version.yaml': ['ERR_CONFIG_VERSION 1:10'],
  'bad-threshold.yaml': ['ERR_CONFIG_TYPE 7:15'],
  'missing-settings-file.yaml': ['ERR_CONFIG_FILE_NOT_FOUND 4:17'],
  'section-not-a-mapping.yaml': ['ERR_CONFIG_TYPE 2:13'],
  'bad-entity-name.yaml': ['ERR_CONFIG_ENTITY_NAME 7:5'],
  'multiple-documents.yaml': ['ERR_YAML_SYNTAX 3:1'],
  'missing-connection.yaml': ['ERR_CONFIG_MISSING_KEY 1:1'],
  'export-without-entities.yaml': ['ERR_CONFIG_MISSING_KEY 3:1'],
  'missing-ca-file.yaml': ['ERR_CONFIG_FILE_NOT_FOUND 5:7'],
  'tab-indentation.yaml': ['ERR_YAML_SYNTAX 3:1'],
};

describe('bad pipelines corpus', () => {
  it('has an expectation for every fixture file', () => {
    expect(readdirSync(path.join(root, dir)).sort()).to.deep.equal(Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    const file = `${dir}/${name}`;

    it(`${name}: ${expected.join(', ')}`, async () => {
      const { pipeline, problems } = await checkPipelineFile(file, env, root);
      expect(pipeline).to.equal(undefined);
      expect(problems.map((p) => `${p.code} ${p.line}:${p.col}`)).to.deep.equal(expected);
      for (const p of problems) {
        expect(p.file).to.equal(file);
        expect(p.message).to.be.a('string').and.not.equal('');
      }
    });

    it(`${name}: validate exits 78, prints file:line:col CODE, no stack trace`, async () => {
      const { code, stdout, stderr } = await cli(['validate', file], { env, cwd: root });
      expect(code).to.equal(78);
      const lines = stdout.trim().split('\n');
      expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).to.deep.equal(
        expected.map((e) => {
          const [c, pos] = e.split(' ');
          return `${file}:${pos} ${c}`;
        }),
      );
      expect(stdout + stderr).not.to.match(/\n\s+at .+:\d+:\d+/);
      expect(stdout).not.to.include(': ok');
    });
  }

  it('loadPipeline throws ConfigProblems with every problem', async () => {
    try {
      await loadPipeline(`${dir}/missing-variable.yaml`, { env, cwd: root });
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigProblems);
      const cp = err as ConfigProblems;
      expect(cp.exitCode).to.equal(78);
      expect(cp.problems.map((p) => p.message)).to.have.length(2);
      expect(cp.format()).to.include(`${dir}/missing-variable.yaml:4:11 ERR_CONFIG_MISSING_VARIABLE`);
    }
  });

  it('reports a missing file as ERR_CONFIG_FILE_NOT_FOUND with the path as given', async () => {
    const { problems } = await checkPipelineFile('nope/none.yaml', env, root);
    expect(problems).to.deep.equal([{ file: 'nope/none.yaml', code: 'ERR_CONFIG_FILE_NOT_FOUND', message: 'no such file: nope/none.yaml' }]);
    const { code, stdout } = await cli(['validate', 'nope/none.yaml'], { env, cwd: root });
    expect(code).to.equal(78);
    expect(stdout).to.equal('nope/none.yaml ERR_CONFIG_FILE_NOT_FOUND no such file: nope/none.yaml\n');
  });

  it('never prints a password found in a server URL', async () => {
    const { stdout } = await cli(['validate', `${dir}/credentials-in-url.yaml`], { env, cwd: root });
    expect(stdout).not.to.include('hunter22');
  });

  it('validates several files and reports the problems of each', async () => {
    const files = [`${dir}/wrong-type.yaml`, `${dir}/unknown-key.yaml`];
    const { code, stdout } = await cli(['validate', ...files], { env, cwd: root });
    expect(code).to.equal(78);
    expect(stdout).to.match(/^test\/fixtures\/bad-pipelines\/wrong-type.yaml:5:13 ERR_CONFIG_TYPE .*\n.*unknown-key.yaml:4:3 ERR_CONFIG_UNKNOWN_KEY .*did you mean "server"/);
  });
});

/**
 * Settings files are JSON as .NET's configuration reader takes it: `//` and
 * `/* *\/` comments and trailing commas; a broken file gets one problem, in
 * JSON words, at its line:col.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { blankJsonc, jsonSyntaxError } from '../../lib/config/jsonc.js';
import { checkPipelineFile } from '../../lib/config/load.js';
import { clearSecrets } from '../../lib/redact.js';
import { cli } from '../helpers/io.js';

const blanked = (t: string) => {
  const r = blankJsonc(t);
  if ('error' in r) throw new Error(r.error.message);
  return r.text;
};

describe('JSON with comments (settings files)', () => {
  describe('blankJsonc', () => {
    it('blanks // and /* */ comments and trailing commas, keeping every position and line break', () => {
      const src = '{ // a comment\n  "a": 1, /* two\nlines */ "b": [1, 2,],\n}\n';
      const out = blanked(src);
      expect(out.length).to.equal(src.length);
      expect(out.split('\n').length).to.equal(src.split('\n').length);
      expect(JSON.parse(out)).to.deep.equal({ a: 1, b: [1, 2] });
      expect(out.indexOf('"b"')).to.equal(src.indexOf('"b"'));
    });

    it('leaves comment-like text and commas inside strings alone', () => {
      const src = '{"url": "https://x.example/a//b", "p": "/* not */", "q": "a,}", "e": "\\"//"}';
      expect(JSON.parse(blanked(src))).to.deep.equal({ url: 'https://x.example/a//b', p: '/* not */', q: 'a,}', e: '"//' });
    });

    it('keeps a comma that is not trailing, and a doubled comma stays an error', () => {
      expect(JSON.parse(blanked('[1, /* c */ 2]'))).to.deep.equal([1, 2]);
      expect(jsonSyntaxError(blanked('[1,,]'))).to.deep.include({ offset: 4, message: 'unexpected "]": expected a JSON value (object, array, string, number, true, false or null)' });
    });

    it('reports a /* comment that is never closed', () => {
      const r = blankJsonc('{"a": 1 /* open');
      expect(r).to.deep.equal({ error: { offset: 8, message: 'a /* comment is not closed (*/ is missing)' } });
    });
  });

  describe('jsonSyntaxError', () => {
    it('accepts valid JSON', () => {
      for (const t of ['{}', '[]', '{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]}', '\ufeff{"a":1}', ' 0 ']) expect(jsonSyntaxError(t), t).to.equal(undefined);
    });

    it('says where and what, in JSON terms', () => {
      const cases: Array<[string, number, RegExp]> = [
        ['{"a": 1', 0, /the file ends inside the object opened here: the JSON is cut off/],
        ['{"a": [1, 2', 6, /ends inside the array/],
        ['{"a": 1 "b": 2}', 8, /expected "," or "}" after a property value/],
        ['{a: 1}', 1, /expected a property name in double quotes/],
        ["{'a': 1}", 1, /property names are written in double quotes/],
        ['{"a" 1}', 5, /expected ":" after the property name/],
        ['{"a": tru}', 6, /expected a JSON value/],
        ['{"a": "x\\q"}', 8, /invalid escape \\q/],
        ['{"a": "x\n"}', 8, /not closed on its line/],
        ['{"a": 01}', 7, /unexpected "1": expected "," or "}"/],
        ['{} {}', 3, /after the end of the JSON value/],
        ['', 0, /the file ends where a value is expected/],
      ];
      for (const [text, offset, message] of cases) {
        const e = jsonSyntaxError(text);
        expect(e, text).to.not.equal(undefined);
        expect(e!.offset, text).to.equal(offset);
        expect(e!.message, text).to.match(message);
      }
    });
  });

  describe('a seed-style appsettings.agent.json', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'scim-etl-jsonc-'));
      writeFileSync(path.join(dir, 's.yaml'), 'connection:\n  settingsFile: appsettings.agent.json\n');
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
      clearSecrets();
    });

    it('is read with // and /* */ comments and trailing commas, positions still exact', async () => {
      writeFileSync(
        path.join(dir, 'appsettings.agent.json'),
        [
          '// Identity Manager agent settings',
          '{',
          '  /* one connection */',
          '  "Connections": {',
          '    "SCIMExport": {',
          '      "Server": "https://scim.example.com/v2", // the SCIM root',
          '      "PageSize": 50,',
          '      "PageSise": 5,',
          '    },',
          '  },',
          '}',
          '',
        ].join('\n'),
      );
      const { problems } = await checkPipelineFile('s.yaml', {}, dir);
      // The only problem is the misspelt key, at its own place in the file.
      expect(problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code}`)).to.deep.equal(['appsettings.agent.json:8:7 ERR_CONFIG_UNKNOWN_KEY']);
      writeFileSync(path.join(dir, 'appsettings.agent.json'), '{ "Connections": { "SCIMExport": { "Server": "https://scim.example.com/v2", }, }, } // done\n');
      const ok = await checkPipelineFile('s.yaml', {}, dir);
      expect(ok.problems).to.deep.equal([]);
      expect(ok.pipeline!.connection).to.include({ identifier: 'SCIMExport', server: 'https://scim.example.com/v2' });
    });

    it('a truncated file: one ERR_JSON_SYNTAX problem in JSON words with line:col, printed once by validate', async () => {
      writeFileSync(path.join(dir, 'appsettings.agent.json'), '{\n  "Connections": {\n    "SCIMExport": {\n      "Server": "https://scim.example.com/v2",\n');
      const r = await cli(['validate', 's.yaml'], { cwd: dir });
      expect(r.code).to.equal(78);
      const lines = r.stdout.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^appsettings\.agent\.json:3:19 ERR_JSON_SYNTAX the file ends inside the object opened here: the JSON is cut off$/);
      expect(r.stdout + r.stderr).not.to.match(/YAML|mapping|flow/i);
    });
  });
});

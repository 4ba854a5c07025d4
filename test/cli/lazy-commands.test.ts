/**
 * Start-up: `scim-etl --help` loads no command module, and `validate` loads
 * neither got nor the sandbox. Checked on the static import graph of the
 * sources (what Node loads before the first line runs), not with a timer;
 * the time itself is measured in `npm run bench`.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { lazyCommands } from '../../lib/cli/commands/index.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every module a file loads statically (type-only imports and import() left out): local files and packages. */
function staticGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const ts = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      expect(existsSync(ts), `${relative(ROOT, file)} imports ${spec}`).to.equal(true);
      walk(ts);
    }
  };
  walk(resolve(ROOT, entry));
  return { files: [...files].map((f) => relative(ROOT, f)).sort(), packages: [...packages].sort() };
}

describe('start-up: commands load lazily', () => {
  it('the CLI entry (what --help runs) loads no command module, no got, no YAML reader, no sandbox', () => {
    const g = staticGraph('bin/scim-etl.ts');
    expect(g.files.filter((f) => f.startsWith('lib/cli/commands/') && f !== 'lib/cli/commands/index.ts')).to.deep.equal([]);
    expect(g.files.filter((f) => /^lib\/(sandbox|scim|streams|config|fulfill|discovery)\//.test(f) || f === 'lib/export.ts' || f === 'lib/fulfill.ts')).to.deep.equal([]);
    expect(g.packages.filter((p) => !p.startsWith('node:'))).to.deep.equal([]);
  });

  it('validate loads the YAML reader but neither got, the SCIM client nor the sandbox', () => {
    const g = staticGraph('lib/cli/commands/validate.ts');
    expect(g.packages).to.include('yaml');
    expect(g.packages).not.to.include('got');
    expect(g.files.filter((f) => f.startsWith('lib/sandbox/') || f === 'lib/scim/client.ts' || f === 'lib/export.ts' || f === 'lib/fulfill.ts')).to.deep.equal([]);
  });

  it('each command is listed with the name and description of its module', async () => {
    for (const c of lazyCommands) {
      const m = await c.load();
      expect({ command: m.command, describe: m.describe }).to.deep.equal({ command: c.command, describe: c.describe });
    }
  });

  it("a command's own options, help and examples still come from its module", async () => {
    const r = await cli(['export', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('--entity').and.include('--format').and.include('Examples:');
    const bad = await cli(['validate', '--no-such-option', 'x.yaml']);
    expect(bad.code).to.equal(64);
    expect(bad.stderr).to.include('ERR_USAGE');
  });
});

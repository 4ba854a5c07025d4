/**
 * Output and results directories are created level by level, or refused at
 * once with a coded error: Node's recursive mkdir loops forever on a path
 * whose parent takes no new entries (/proc/self/xx).
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir } from '../../lib/ensure-dir.js';
import { cli } from '../helpers/io.js';
import { tempDir } from '../fulfill/helpers.js';

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; context: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  throw new Error('expected a failure');
}

describe('ensureDir', () => {
  it('creates the missing levels of a path, and accepts one that exists', async () => {
    const dir = tempDir();
    await ensureDir(join(dir, 'a/b/c'));
    expect(statSync(join(dir, 'a/b/c')).isDirectory()).to.equal(true);
    await ensureDir(join(dir, 'a/b/c'));
  });

  it('refuses a path below /proc/self at once (ERR_OUTPUT_DIR), where recursive mkdir never returns', async () => {
    const err = await failure(ensureDir('/proc/self/xx/yy'));
    expect(err.code).to.equal('ERR_OUTPUT_DIR');
    expect(err.message).to.equal('cannot create the directory /proc/self/xx/yy: mkdir /proc/self/xx failed with ENOENT although its parent exists');
  });

  it('refuses a path through a file, naming the file', async () => {
    const dir = tempDir({ 'file.txt': 'x' });
    const err = await failure(ensureDir(join(dir, 'file.txt/sub')));
    expect(err.code).to.equal('ERR_OUTPUT_DIR');
    expect(err.message).to.include(`${join(dir, 'file.txt')} exists and is not a directory`);
    expect(err.context).to.include({ errno: 'ENOTDIR' });
  });

  it('stops when its signal is aborted', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    const err = await failure(ensureDir(join(dir, 'x/y'), controller.signal));
    expect(err.message).to.equal('interrupted');
    expect(existsSync(join(dir, 'x'))).to.equal(false);
  });

  describe('from the CLI', () => {
    function workspace(): { dir: string; file: string } {
      const dir = tempDir();
      mkdirSync(join(dir, 'orders'));
      writeFileSync(join(dir, 'orders', 'T_Users.csv'), 'command,userName\ninsert,a\n');
      const file = join(dir, 'p.yaml');
      writeFileSync(
        file,
        ['version: 1', 'connection:', '  identifier: T', '  server: http://127.0.0.1:1', '  oAuthToken: output-dir-token', '  retry: { limit: 0 }', '  timeout: 200', 'export:', '  output: out', '  entities:', '    Users: { columns: [id, userName] }', 'fulfill:', '  orders: orders', '  results: results', ''].join('\n'),
      );
      return { dir, file };
    }

    it('export --output /proc/self/xx fails with a coded error and exit 1', async () => {
      const { dir, file } = workspace();
      const r = await cli(['export', file, '--output', '/proc/self/xx'], { cwd: dir });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/ERR_OUTPUT_DIR cannot create the directory \/proc\/self\/xx: /);
    });

    it('fulfill --results /proc/self/xx fails with a coded error and exit 1, nothing sent', async () => {
      const { dir, file } = workspace();
      const r = await cli(['fulfill', file, '--results', '/proc/self/xx'], { cwd: dir });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/ERR_OUTPUT_DIR cannot create the directory \/proc\/self\/xx: /);
    });
  });
});

/** The names in a directory; none when it does not exist (yet): a sweep of a missing directory has nothing to do. */
import { readdir } from 'node:fs/promises';

export async function listDirOrNone(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

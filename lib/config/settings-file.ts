/**
 * An Identity Manager `appsettings.agent.json` used as the connection:
 * `connection.settingsFile` names it and its `Connections.<identifier>` entry
 * is read with the same key table as `connection:` (so `Server`, `Login`,
 * `Filter`… work), then merged under the pipeline's own keys.
 *
 * In an `*.encrypted.*` file every string value is RSA-encrypted: it is carried
 * as `enc:<value>` for the secrets resolver to decrypt; nothing is decrypted here.
 * It is JSON with comments and trailing commas (lib/config/jsonc.ts, as .NET
 * reads it); once blanked, JSON is YAML, so the YAML reader gives positions.
 */
import { basename } from 'node:path';
import { isMap, isScalar, type Node, type Pair } from 'yaml';
import { Locations, type ProblemList } from './locations.js';
import { lineColAt } from './positions.js';
import { readObject, type RawObject } from './read-node.js';
import { readYamlMapping } from './read-yaml.js';
import { connectionSpec } from './spec.js';

export interface SettingsConnection {
  /** The identifier the entry was found under (as spelled in the file). */
  identifier: string;
  values: RawObject;
  locs: Locations;
}

export function isEncryptedSettingsFile(file: string): boolean {
  return basename(file).toLowerCase().includes('.encrypted.');
}

/**
 * Reads `Connections.<identifier>` (case-insensitive). Without an identifier
 * the file must hold exactly one connection.
 */
export async function readSettingsConnection(
  file: string,
  absPath: string,
  identifier: string | undefined,
  problems: ProblemList,
  namedAt?: { file: string; line: number; col: number },
): Promise<SettingsConnection | undefined> {
  const src = await readYamlMapping(file, absPath, problems, 'settings file', namedAt, { json: true });
  if (!src) return undefined;
  const connections = findKey(src.root.items, 'Connections');
  if (!connections || !isMap(connections.value)) {
    problems.add('ERR_CONFIG_SETTINGS', `${file} has no "Connections" section`, { file, line: 1, col: 1 });
    return undefined;
  }
  const entries = (connections.value as { items: Pair[] }).items;
  const names = entries.map((p) => String(isScalar(p.key) ? p.key.value : p.key));
  const sectionPos = lineColAt(src.lc, (connections.key as Node).range?.[0] ?? 0);
  let entry: Pair | undefined;
  if (identifier !== undefined) {
    entry = findKey(entries, identifier);
    if (!entry) {
      problems.add('ERR_CONFIG_SETTINGS', `${file} has no connection ${JSON.stringify(identifier)} under "Connections" (it has: ${names.join(', ') || 'none'})`, { file, ...sectionPos });
      return undefined;
    }
  } else if (entries.length === 1) {
    entry = entries[0];
  } else {
    problems.add('ERR_CONFIG_SETTINGS', `${file} holds ${entries.length} connections (${names.join(', ')}): name one with connection.identifier`, { file, ...sectionPos });
    return undefined;
  }
  const name = String(isScalar(entry!.key) ? entry!.key.value : entry!.key);
  const value = entry!.value as Node | null;
  if (!isMap(value)) {
    const pos = lineColAt(src.lc, (entry!.key as Node).range?.[0] ?? 0);
    problems.add('ERR_CONFIG_SETTINGS', `Connections.${name} in ${file} is not an object of settings`, { file, ...pos });
    return undefined;
  }
  const locs = new Locations();
  const values = readObject(
    { src, locs, problems, encrypted: isEncryptedSettingsFile(file) },
    value,
    connectionSpec,
    ['connection'],
    `Connections.${name}`,
  );
  return { identifier: name, values, locs };
}

function findKey(items: Pair[], name: string): Pair | undefined {
  const lower = name.toLowerCase();
  return items.find((p) => isScalar(p.key) && String(p.key.value).toLowerCase() === lower);
}

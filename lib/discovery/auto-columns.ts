/**
 * `columns: auto`: an entity's columns are every readable attribute its
 * resource type has in the server's /Schemas — core schema first, then each
 * extension with its URN — in schema order, sub-attributes flattened
 * (`name:givenName`), multi-valued ones as their primary element
 * (`emails:value`), `returned: never` and writeOnly left out. The same list
 * `discover` prints. Without /Schemas the RFC 7643 built-ins stand in, with
 * a warning. The header is logged under --verbose as a YAML list, so a user
 * can freeze it in the pipeline.
 */
import { ScimEtlError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EntityExport, Pipeline } from '../config/types.js';
import type { ScimClient } from '../scim/client.js';
import { parseColumnPath, type ColumnPath } from '../scim/path.js';
import { buildReport } from './model.js';
import { readDiscovery } from './read.js';

type Client = Pick<ScimClient, 'request'> & Partial<Pick<ScimClient, 'base' | 'serviceProviderConfig'>>;

/** The pipeline with every `columns: auto` entity's columns filled in; the same object when there is none. */
export async function resolveAutoColumns(pipe: Pipeline, client: Client, logger: Logger, signal?: AbortSignal): Promise<Pipeline> {
  const exp = pipe.export;
  if (!exp || !exp.entities.some((e) => e.columnsAuto)) return pipe;
  const docs = await readDiscovery(Object.defineProperty(bind(client), 'base', { get: () => client.base ?? '' }) as Parameters<typeof readDiscovery>[0], signal);
  const report = buildReport(docs);
  if (!docs.schemas.found) logger.warn(`columns: auto: the server serves no /Schemas (${docs.schemas.reason}); using the RFC 7643 built-in schemas`);
  const entities = exp.entities.map((entity): EntityExport => {
    if (!entity.columnsAuto) return entity;
    const type = report.resources.find((r) => r.endpoint.toLowerCase() === entity.name.toLowerCase());
    if (!type) {
      const known = report.resources.map((r) => r.endpoint).join(', ') || 'none';
      throw new ScimEtlError('ERR_EXPORT_AUTO_COLUMNS', `${entity.name}: columns: auto, but the server lists no resource type with endpoint /${entity.name} (it lists: ${known}); name the columns`, { entity: entity.name }, { category: 'config' });
    }
    const columns: ColumnPath[] = [];
    for (const c of type.columns) {
      if (!c.readable) continue;
      try {
        columns.push(parseColumnPath(c.path));
      } catch {
        logger.debug(`${entity.name}: columns: auto leaves out ${JSON.stringify(c.path)}: not a column path this tool can write`);
      }
    }
    if (columns.length === 0) throw new ScimEtlError('ERR_EXPORT_AUTO_COLUMNS', `${entity.name}: columns: auto found no readable attribute in the server's schema; name the columns`, { entity: entity.name }, { category: 'config' });
    logger.debug(`${entity.name}: columns: auto → columns: ${yamlList(columns.map((c) => c.text))}`);
    return { ...entity, columns };
  });
  return { ...pipe, export: { ...exp, entities } };
}

/** A YAML flow list a user can paste under the entity (paths with `:` or `[` quoted). */
export function yamlList(items: readonly string[]): string {
  return `[${items.map((t) => (/^[A-Za-z_$][\w$.-]*$/.test(t) ? t : JSON.stringify(t))).join(', ')}]`;
}

/** The client's methods, bound: readDiscovery takes a plain requester. */
function bind(client: Client): Pick<ScimClient, 'request'> & Partial<Pick<ScimClient, 'serviceProviderConfig'>> {
  return {
    request: client.request.bind(client),
    ...(client.serviceProviderConfig ? { serviceProviderConfig: client.serviceProviderConfig.bind(client) } : {}),
  };
}

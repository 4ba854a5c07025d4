/**
 * The JSON Schema of a pipeline file, generated from the key table so that
 * editor completion and the validator know the same keys. The shipped copy is
 * schema/pipeline.schema.json; a test fails when it is out of date, and
 *   npx tsx -e "import('./lib/config/json-schema.ts').then((m) => m.writeJsonSchema())"
 * rewrites it.
 *
 * Keys are matched case-insensitively by the validator: `properties` lists the
 * canonical names (what editors complete) and `patternProperties` accepts any
 * other spelling, so `Server` or `PageSize` are not flagged.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pipelineSpec, type FieldSpec } from './spec.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/pipeline.schema.json', import.meta.url));

type Json = Record<string, unknown>;

/** A value that is interpolated later may be any string holding `${`. */
const INTERPOLATED = '\\$\\{';

export function buildJsonSchema(): Json {
  const root = fieldSchema(pipelineSpec, '#');
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/scim-etl/scim-etl/schema/pipeline.schema.json',
    title: 'scim-etl pipeline',
    ...root,
    // Top-level x-… keys are ignored: a place for YAML anchors.
    patternProperties: { ...(root.patternProperties as Json), '^[Xx]-': {} },
    required: ['connection'],
  };
}

/** `pointer` is this schema's JSON pointer, so that other spellings of a key can $ref the canonical one. */
function fieldSchema(spec: FieldSpec, pointer: string): Json {
  const description = spec.description;
  switch (spec.type) {
    case 'string': {
      const base: Json = { description, type: 'string' };
      if (spec.default !== undefined) base.default = spec.default;
      if (!spec.enum) return base;
      // Completion offers the canonical spellings; any case is accepted.
      return {
        description,
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        anyOf: [{ enum: [...spec.enum] }, { type: 'string', pattern: `^(?:${spec.enum.map(anyCase).join('|')})$|${INTERPOLATED}` }],
      };
    }
    case 'integer':
      return {
        description,
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        anyOf: [
          { type: 'integer', minimum: spec.min, ...(spec.max !== undefined ? { maximum: spec.max } : {}) },
          { type: 'string', pattern: `^\\s*\\d+\\s*$|${INTERPOLATED}` },
        ],
      };
    case 'boolean':
      return {
        description,
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        anyOf: [{ type: 'boolean' }, { type: 'string', pattern: `^(?:${anyCase('true')}|${anyCase('false')})$|${INTERPOLATED}` }],
      };
    case 'threshold':
      return {
        description,
        anyOf: [
          { type: 'integer', minimum: 0 },
          { type: 'string', pattern: `^\\s*\\d+(?:\\.\\d+)?\\s*%$|^\\s*\\d+\\s*$|${INTERPOLATED}` },
        ],
      };
    case 'stringList':
      return { description, anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
    case 'map':
      return {
        description,
        type: 'object',
        additionalProperties: spec.nullable
          ? { anyOf: [fieldSchema(spec.values, `${pointer}/additionalProperties/anyOf/0`), { type: 'null' }] }
          : fieldSchema(spec.values, `${pointer}/additionalProperties`),
      };
    case 'object': {
      const properties: Json = {};
      const patternProperties: Json = {};
      for (const [key, f] of Object.entries(spec.fields)) {
        const at = `${pointer}/properties/${key}`;
        properties[key] = fieldSchema(f, at);
        patternProperties[`^${anyCase(key)}$`] = { $ref: at };
      }
      return { description, type: 'object', properties, patternProperties, additionalProperties: false };
    }
  }
}

/** "server" → "[Ss][Ee][Rr][Vv][Ee][Rr]": JSON Schema patterns have no case-insensitive flag. */
function anyCase(word: string): string {
  return [...word]
    .map((ch) => {
      const lo = ch.toLowerCase();
      const up = ch.toUpperCase();
      if (lo !== up) return `[${up}${lo}]`;
      return /[\w]/.test(ch) ? ch : `\\${ch}`;
    })
    .join('');
}

export function renderJsonSchema(): string {
  return JSON.stringify(buildJsonSchema(), null, 2) + '\n';
}

export async function writeJsonSchema(file = SCHEMA_FILE): Promise<void> {
  await writeFile(file, renderJsonSchema());
}

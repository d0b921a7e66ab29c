import { z } from 'zod';
import { configFileSchema } from './schema.js';

/**
 * The JSON Schema of a Wirefeed YAML file, generated from the zod schema that validates it, for editors
 * (`# yaml-language-server: $schema=…` at the top of a file). Committed as schema/config.schema.json; a test keeps it
 * current.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configFileSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://github.com/wirefeed/wirefeed/schema/config.schema.json',
    title: 'Wirefeed configuration file',
    description: 'One file of a Wirefeed config folder: sources, topics, and optional fetch, publish and worker settings.',
  };
}

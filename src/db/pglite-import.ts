/**
 * Data folders of Wirefeed before the embedded PostgreSQL kept a PGlite database in <DATA_DIR>/pglite. The first
 * start on such a folder copies it into the new store, table by table, then renames the old folder to
 * pglite.imported, so nothing stored earlier is lost and nothing is copied twice.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from 'postgres';

/** Every table of Wirefeed's schema, referenced tables first. */
const TABLES = ['sources', 'topics', 'stories', 'items', 'item_bands', 'topic_stories', 'fetch_log'] as const;
const SERIAL_TABLES = ['items', 'fetch_log'] as const;
/**
 * Columns whose type changed after the PGlite era, by table: the old type and how the new store computes the new value
 * from it (migration 0003 made band keys bigint hashes of the text keys, computed by the server).
 */
const CONVERSIONS: Record<string, Record<string, { from: string; to: (value: string) => string }>> = {
  item_bands: { band: { from: 'text', to: (value) => `hashtextextended(${value}, 0)` } },
};
const PAGE = 2_000;

export const pgliteFolderOf = (dataDir: string) => join(dataDir, 'pglite');

/** Imports <dataDir>/pglite into `target` when it is there and the target store is still empty; returns row counts. */
export async function importPgliteFolder(dataDir: string, target: Sql): Promise<Record<string, number> | undefined> {
  const folder = pgliteFolderOf(dataDir);
  if (!existsSync(join(folder, 'PG_VERSION'))) return undefined;
  const [{ count } = { count: 0 }] = await target<Array<{ count: number }>>`select count(*)::int as count from sources`;
  if (count > 0) return undefined; // the new store is in use already; leave the old folder alone
  const { PGlite } = await import('@electric-sql/pglite');
  const old = new PGlite(folder);
  const copied: Record<string, number> = {};
  try {
    await target.begin(async (tx) => {
      // The rows are copied as they were: references are checked by the data, not in table order.
      await tx`set local session_replication_role = replica`;
      for (const table of TABLES) {
        copied[table] = 0;
        // The columns both stores have: columns added since take their defaults.
        const { rows: oldColumns } = await old.query<{ name: string; type: string }>(
          `select column_name as name, data_type as type from information_schema.columns where table_name = '${table}'`,
        );
        const columns = oldColumns.map((column) => `"${column.name}"`).join(', ');
        const converted = oldColumns.filter((column) => CONVERSIONS[table]?.[column.name]?.from === column.type);
        // Rows read as the old store's types where a column changed type, as the new store's otherwise.
        const source =
          converted.length === 0
            ? `select ${columns} from json_populate_recordset(null::${table}, $1::json)`
            : `select ${oldColumns
                .map((column) => (converted.includes(column) ? CONVERSIONS[table]![column.name]!.to(`r."${column.name}"`) : `r."${column.name}"`))
                .join(', ')} from json_to_recordset($1::json) as r(${oldColumns.map((column) => `"${column.name}" ${column.type}`).join(', ')})`;
        for (let offset = 0; ; offset += PAGE) {
          const { rows } = await old.query<{ row: string }>(`select row_to_json(t)::text as row from ${table} t order by ctid limit ${PAGE} offset ${offset}`);
          if (rows.length === 0) break;
          const page = `[${rows.map((row) => row.row).join(',')}]`;
          await tx.unsafe(`insert into ${table} (${columns}) ${source}`, [page]);
          copied[table] += rows.length;
        }
      }
      for (const table of SERIAL_TABLES)
        await tx.unsafe(`select setval(pg_get_serial_sequence('${table}', 'id'), coalesce((select max(id) from ${table}), 0) + 1, false)`);
    });
  } finally {
    await old.close();
  }
  renameSync(folder, `${folder}.imported`);
  return copied;
}

import { sql } from 'drizzle-orm';
import { openMigratedDatabase } from './src/db/client.ts';

const dir = process.argv[2]!;
let t = Date.now();
const h = await openMigratedDatabase({ dataDir: dir });
console.log('open+migrate ms', Date.now() - t, h.engine);
console.log(await h.rows(sql`select count(*) from sources`));
t = Date.now();
await h.close();
console.log('close ms', Date.now() - t);
console.log('rss MB', Math.round(process.memoryUsage().rss / 1e6));

// The DuckDB peer of the batch benchmark (bench/batch/run.sh): loads the
// events CSV (url,user,ts_ms) into an in-memory table (not timed), then
// computes the two views' aggregations with 2 threads, materialized as
// tables (braid writes its cells too), `reps` times:
//   pageviews: count per (url, hour | day | ISO week | month)  (GROUPING SETS)
//   uniques:   approx_count_distinct(user) (HyperLogLog) per (url, day)
// Prints one JSON line per repetition: seconds of each query, rows, cells.
//   node duckdb_peer.mjs EVENTS.csv [reps] [threads]
import { DuckDBInstance } from '@duckdb/node-api';

const [csv, reps = '3', threads = '2'] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:', { threads });
const db = await instance.connect();
let t = performance.now();
await db.run(`CREATE TABLE pv AS SELECT url, "user", epoch_ms(ts_ms) AS ts
              FROM read_csv('${csv}', header = true,
                            columns = {'url': 'VARCHAR', 'user': 'VARCHAR', 'ts_ms': 'BIGINT'})`);
const rows = Number((await (await db.run('SELECT count(*) FROM pv')).getRows())[0][0]);
console.error(`duckdb: loaded ${rows} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const q1 = `CREATE OR REPLACE TABLE pageviews AS
  SELECT url, h, d, w, m, count(*) AS n FROM (
    SELECT url, date_trunc('hour', ts) AS h, date_trunc('day', ts) AS d,
           date_trunc('week', ts) AS w, date_trunc('month', ts) AS m FROM pv)
  GROUP BY GROUPING SETS ((url, h), (url, d), (url, w), (url, m))`;
const q2 = `CREATE OR REPLACE TABLE uniques AS
  SELECT url, date_trunc('day', ts) AS d, approx_count_distinct("user") AS u
  FROM pv GROUP BY url, d`;
for (let r = 0; r < Number(reps); ++r) {
  t = performance.now();
  await db.run(q1);
  const s1 = (performance.now() - t) / 1000;
  t = performance.now();
  await db.run(q2);
  const s2 = (performance.now() - t) / 1000;
  const c1 = Number((await (await db.run('SELECT count(*) FROM pageviews')).getRows())[0][0]);
  const c2 = Number((await (await db.run('SELECT count(*) FROM uniques')).getRows())[0][0]);
  console.log(JSON.stringify({ rep: r, threads: Number(threads), rows, pageviews_s: s1,
                               uniques_s: s2, seconds: s1 + s2, pageviews_cells: c1,
                               uniques_cells: c2 }));
}

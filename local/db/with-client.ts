// One short-lived connection for a few statements (migrating a database, creating or dropping one,
// reading a setting), closed whatever happens.
import postgres from "postgres";

export async function withClient<T>(
  url: string,
  fn: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// Creating and dropping whole databases on a Postgres server, for what needs a fresh one each time
// (a test file, a bench scenario, a deploy check), and the URL of one beside the server's own.
import { withClient } from "./with-client.ts";

/** `serverUrl` with its database replaced by `name`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates `name` (as a copy of `template`, if given) and returns its URL. */
export async function createDatabase(
  adminUrl: string,
  name: string,
  template?: string,
): Promise<string> {
  await withClient(
    adminUrl,
    (admin) =>
      template
        ? admin`create database ${admin(name)} template ${admin(template)}`
        : admin`create database ${admin(name)}`,
  );
  return databaseUrl(adminUrl, name);
}

/** Drops `name`, ending its sessions first; nothing if it is already gone. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (admin) => admin`drop database if exists ${admin(name)} with (force)`);
}

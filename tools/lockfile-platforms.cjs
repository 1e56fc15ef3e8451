// The registry reachable here does not serve the other-platform binaries of the packages that ship a
// native binary per platform (`deno`: @deno/darwin-*, linux-arm64, win32-*; the Supabase CLI:
// @supabase/cli-darwin-*, -windows-*, -linux-*-musl: 404), so `npm install` writes a lock file
// without them and `npm ci` then refuses it as out of sync. This adds an entry for every optional
// dependency of those packages that the lock lacks (optional, platform-tagged from its name, never
// downloaded on linux-x64) so `npm ci` accepts the lock. Run after any `npm install`:
//   node tools/lockfile-platforms.cjs
const fs = require("node:fs");
const path = require("node:path");

const NATIVE_PACKAGES = ["deno", "supabase"];

/** Platform tags npm matches against, read from a name like `cli-linux-arm64-musl` or `win32-x64`. */
function platformTags(name) {
  const part = name.split("/").pop();
  const os = /darwin/.test(part) ? "darwin" : /win(32|dows)/.test(part) ? "win32" : "linux";
  const cpu = /arm64/.test(part) ? "arm64" : "x64";
  const libc = os !== "linux" ? undefined : /musl/.test(part) ? "musl" : "glibc";
  return { cpu: [cpu], os: [os], ...(libc ? { libc: [libc] } : {}) };
}

const lockPath = path.join(__dirname, "..", "package-lock.json");
const lock = JSON.parse(fs.readFileSync(lockPath, "utf8"));
for (const owner of NATIVE_PACKAGES) {
  const entry = lock.packages[`node_modules/${owner}`];
  if (!entry) continue;
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    lock.packages[`node_modules/${name}`] ??= {
      version: version.replace(/^[\^~]/, ""),
      ...(entry.dev ? { dev: true } : {}),
      license: entry.license,
      optional: true,
      ...platformTags(name),
    };
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
);
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);

// The registry reachable here does not serve the `deno` package's other-platform binaries
// (@deno/darwin-*, linux-arm64, win32-*: 404), so `npm install` writes a lock file without them and
// `npm ci` then refuses it as out of sync. This adds their entries (optional, platform-tagged, never
// downloaded on linux-x64) so `npm ci` accepts the lock. Run after any `npm install`:
//   node tools/lockfile-deno-platforms.cjs
const fs = require("node:fs");
const path = require("node:path");

const lockPath = path.join(__dirname, "..", "package-lock.json");
const lock = JSON.parse(fs.readFileSync(lockPath, "utf8"));
const deno = lock.packages["node_modules/deno"];
const platforms = {
  "@deno/darwin-arm64": { cpu: ["arm64"], os: ["darwin"] },
  "@deno/darwin-x64": { cpu: ["x64"], os: ["darwin"] },
  "@deno/linux-arm64-glibc": { cpu: ["arm64"], os: ["linux"], libc: ["glibc"] },
  "@deno/linux-x64-glibc": { cpu: ["x64"], os: ["linux"], libc: ["glibc"] },
  "@deno/win32-arm64": { cpu: ["arm64"], os: ["win32"] },
  "@deno/win32-x64": { cpu: ["x64"], os: ["win32"] },
};
for (const [name, tags] of Object.entries(platforms)) {
  const key = `node_modules/${name}`;
  lock.packages[key] ??= { version: deno.version, license: "MIT", optional: true, ...tags };
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
);
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);

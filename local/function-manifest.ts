// Reads the `[functions.NAME]` sections of supabase/config.toml, so the local gateway enforces the same
// `verify_jwt` the deployed project does. Only the keys the gateway needs are read.
export interface FunctionSpec {
  name: string;
  verifyJwt: boolean;
  entrypoint: string;
  /** The Deno config Supabase bundles the function with (`import_map`), relative to supabase/. */
  importMap: string;
}

export function parseFunctionManifest(toml: string): FunctionSpec[] {
  const specs: FunctionSpec[] = [];
  let current: FunctionSpec | null = null;
  for (const rawLine of toml.split(/\r?\n/)) {
    const line = rawLine.replace(/#.*$/, "").trim();
    if (!line) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      const fn = /^functions\.([A-Za-z0-9_-]+)$/.exec(section[1]);
      current = fn ? { name: fn[1], verifyJwt: true, entrypoint: "", importMap: "" } : null;
      if (current) specs.push(current);
      continue;
    }
    const kv = /^([A-Za-z_]+)\s*=\s*(.+)$/.exec(line);
    if (!current || !kv) continue;
    if (kv[1] === "verify_jwt") current.verifyJwt = kv[2] !== "false";
    if (kv[1] === "entrypoint") current.entrypoint = kv[2].replace(/^"|"$/g, "");
    if (kv[1] === "import_map") current.importMap = kv[2].replace(/^"|"$/g, "");
  }
  return specs;
}

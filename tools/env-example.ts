// Renders .env.example from the variables declared in shared/config.ts, so the two cannot drift
// (tests/unit/config.test.ts fails when the committed file differs). `npm run env-example` rewrites it.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type VariableInfo, VARIABLES } from "../shared/config.ts";
import { LOCAL_VARIABLES } from "../local/env.ts";

export function renderEnvExample(): string {
  const lines = [
    "# HLF Dynamics Sync - every environment variable, with its default.",
    "# Generated from shared/config.ts and local/env.ts by `npm run env-example`; edit them there.",
    "# Secrets and Dynamics URLs have no default: deployed functions refuse to serve without them.",
    "# The local stack supplies its published values itself (local/env.ts); export what you change.",
    "",
  ];
  const section = (title: string, variables: readonly VariableInfo[]) => {
    lines.push(`# --- ${title} ---`, "");
    for (const v of variables) {
      lines.push(`# ${v.doc}`);
      lines.push(v.default === undefined ? `# ${v.name}=` : `${v.name}=${v.default}`);
      lines.push("");
    }
  };
  section("functions (shared/config.ts)", VARIABLES);
  section("local stack only (local/env.ts)", LOCAL_VARIABLES);
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL("../.env.example", import.meta.url), renderEnvExample());
}

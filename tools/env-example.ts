// Renders .env.example from the variables declared in shared/config.ts, so the two cannot drift
// (tests/unit/config.test.ts fails when the committed file differs). `npm run env-example` rewrites it.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VARIABLES } from "../shared/config.ts";

export function renderEnvExample(): string {
  const lines = [
    "# HLF Dynamics Sync - every environment variable, with its local default.",
    "# Generated from shared/config.ts by `npm run env-example`; edit the declarations there.",
    "# Export what you change before `npm start`; unset variables take the default shown.",
    "",
  ];
  for (const v of VARIABLES) {
    lines.push(`# ${v.doc}`);
    lines.push(v.fallback === undefined ? `# ${v.name}=` : `${v.name}=${v.fallback}`);
    lines.push("");
  }
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL("../.env.example", import.meta.url), renderEnvExample());
}

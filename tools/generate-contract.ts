// `npm run contract`: writes the generated contract files into contracts/.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContractFiles } from "./contract.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

for (const [path, content] of Object.entries(buildContractFiles())) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote ${path}`);
}

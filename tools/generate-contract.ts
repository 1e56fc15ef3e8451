// `npm run contract`: writes the generated contract files into contracts/.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContractFiles, README_PATH } from "./contract.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const readme = readFileSync(join(root, README_PATH), "utf8");
for (const [path, content] of Object.entries(await buildContractFiles(readme))) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote ${path}`);
}

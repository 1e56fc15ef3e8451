// Memory of another process from /proc (Linux): VmHWM is the peak resident set size.
import { readFile } from "node:fs/promises";

/** Peak RSS of `pid` in MiB, or null where /proc is not available. */
export async function peakRssMiB(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

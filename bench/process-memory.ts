// Memory and CPU time of another process from /proc (Linux): VmHWM is the peak resident set size,
// utime + stime of /proc/PID/stat the CPU time of all its threads.
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

// /proc/PID/stat counts CPU time in clock ticks: USER_HZ, 100 on Linux whatever the kernel's HZ.
const TICKS_PER_SECOND = 100;

/** CPU time (user + system, every thread) `pid` has used so far, in ms; null without /proc. */
export async function cpuTimeMs(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

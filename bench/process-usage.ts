// Memory and CPU time of another process from /proc (Linux): VmRSS and VmHWM of /proc/PID/status
// are its resident set size now and at its peak, utime + stime of /proc/PID/stat the CPU time of
// all its threads.
import { readdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";

/**
 * A memory figure of /proc/PID/status in KiB (VmRSS: resident now, VmHWM: its peak); null where
 * /proc or the field is not available.
 */
export async function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Peak RSS of `pid` in MiB, or null where /proc is not available. */
export async function peakRssMiB(pid: number): Promise<number | null> {
  const kib = await statusKiB(pid, "VmHWM");
  return kib === null ? null : kib / 1024;
}

// /proc/PID/stat counts CPU time in clock ticks: USER_HZ, 100 on Linux whatever the kernel's HZ.
const TICKS_PER_SECOND = 100;

interface ProcStat {
  command: string;
  /** utime + stime: this process, every thread (ms). */
  ownMs: number;
  /** cutime + cstime: its children that exited and were waited for (ms). */
  childrenMs: number;
}

async function procStat(pid: number | string): Promise<ProcStat | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // state is field 3, utime, stime, cutime and cstime are fields 14 to 17.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (i: number) => (Number(fields[i]) * 1000) / TICKS_PER_SECOND;
    return {
      command: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      ownMs: ms(11) + ms(12),
      childrenMs: ms(13) + ms(14),
    };
  } catch {
    return null;
  }
}

/** CPU time (user + system, every thread) `pid` has used so far, in ms; null without /proc. */
export async function cpuTimeMs(pid: number): Promise<number | null> {
  return (await procStat(pid))?.ownMs ?? null;
}

/**
 * CPU time of the local Postgres server so far (ms): every live `postgres` process plus what the
 * postmaster's exited children used (so a backend that closed mid-run still counts). Every
 * database on the server counts: measure on a quiet machine. Null without /proc or a server.
 */
export async function postgresCpuMs(): Promise<number | null> {
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const stats = (await Promise.all(pids.map(procStat))).filter((s): s is ProcStat =>
    s?.command === "postgres"
  );
  if (stats.length === 0) return null;
  // Each process's exited children are counted by its parent: for Postgres, the postmaster.
  return stats.reduce((sum, s) => sum + s.ownMs + s.childrenMs, 0);
}

/**
 * CPU time by process on a machine whose cores all of them share (ms): the functions' process,
 * this one (sandbox, load driver and, on PGlite, the database) and the Postgres server.
 */
export interface CpuByProcess {
  functions: number | null;
  bench: number;
  postgres: number | null;
}

const add = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);

/**
 * CPU used so far by each process of `CpuByProcess`, the functions' being `pids` together (one for
 * the local gateway, one per function in the deployed shape).
 */
export async function sampleCpu(pids: number | readonly number[]): Promise<CpuByProcess> {
  const { user, system } = process.cpuUsage();
  const functions = await Promise.all([pids].flat().map(cpuTimeMs));
  return {
    functions: functions.reduce<number | null>((sum, ms) => add(sum, ms), 0),
    bench: (user + system) / 1000,
    postgres: await postgresCpuMs(),
  };
}

const spent = (after: number | null, before: number | null) =>
  after === null || before === null ? null : after - before;

/** CPU spent by each process between two samples. */
export function cpuBetween(before: CpuByProcess, after: CpuByProcess): CpuByProcess {
  return {
    functions: spent(after.functions, before.functions),
    bench: after.bench - before.bench,
    postgres: spent(after.postgres, before.postgres),
  };
}

/** CPU spent by each process over several measured stretches. */
export function sumCpu(spans: readonly CpuByProcess[]): CpuByProcess {
  return spans.reduce((sum, s) => ({
    functions: add(sum.functions, s.functions),
    bench: sum.bench + s.bench,
    postgres: add(sum.postgres, s.postgres),
  }), { functions: 0, bench: 0, postgres: 0 });
}

/**
 * CPU ms per unit of work (a delivery, a request) by process, and the throughput the machine's
 * cores could give at that cost: what bounds the rate when every process shares the same cores.
 * `served` names what ran in the functions' process.
 */
export function cpuNote(
  cpu: CpuByProcess,
  units: number,
  onServer: boolean,
  served = "functions",
): string {
  const parts: [string, number | null][] = [
    [served, cpu.functions],
    [onServer ? "bench (sandbox, load)" : "bench (sandbox, load, PGlite)", cpu.bench],
    ...(onServer ? [["Postgres", cpu.postgres] as [string, number | null]] : []),
  ];
  const per = (ms: number) => ms / Math.max(1, units);
  const known = parts.filter((p): p is [string, number] => p[1] !== null);
  const total = known.reduce((sum, [, ms]) => sum + per(ms), 0);
  const cores = availableParallelism();
  return `${known.map(([name, ms]) => `${name} ${per(ms).toFixed(2)}`).join(", ")}; total ${
    total.toFixed(2)
  } ms: at most ${Math.round((cores * 1000) / total)}/s on ${cores} cores`;
}

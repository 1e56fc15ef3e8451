// Load generation through autocannon (as a library): fixed concurrency for a fixed time, each
// request optionally built by `next()` (unique signed bodies, rotating mentor ids).
import autocannon from "autocannon";
import { exactly, type Figure, figure, type Target } from "./results.ts";

export interface RequestParts {
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadOptions {
  url: string;
  method: "GET" | "POST";
  connections: number;
  durationSeconds: number;
  /** A request slower than this counts as an error (autocannon's default is 10 s). */
  timeoutSeconds?: number;
  headers?: Record<string, string>;
  /** Called for every request; fixed parts come from the options above. */
  next?: () => RequestParts;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
}

// The slice of autocannon's result this module reads (the package ships no types).
interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const next = o.next;
  const result = await (autocannon as unknown as Autocannon)({
    url: o.url,
    method: o.method,
    connections: o.connections,
    duration: o.durationSeconds,
    timeout: o.timeoutSeconds ?? 10,
    headers: o.headers,
    requests: [
      next
        ? {
          setupRequest: (req: Record<string, unknown>) => {
            const parts = next();
            return {
              ...req,
              ...parts,
              headers: { ...(req.headers as Record<string, string>), ...parts.headers },
            };
          },
        }
        : {},
    ],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
    statusCodes[code] = count;
  }
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes,
  };
}

/** The figures of one load run: latency percentiles, throughput, and failed requests (none). */
export function loadFigures(
  scenario: string,
  label: string,
  r: LoadResult,
  targets: { p50?: Target; p99?: Target } = {},
): Figure[] {
  return [
    figure(scenario, `${label}: p50`, r.p50, " ms", targets.p50),
    figure(scenario, `${label}: p99`, r.p99, " ms", targets.p99),
    figure(scenario, `${label}: req/s`, r.requestsPerSecond, ""),
    figure(scenario, `${label}: failed requests`, r.non2xx + r.errors, "", exactly(0)),
  ];
}

// What a coordinator reads next to the technical `lastError`: a stable `errorCode` the dashboard
// team translates, and a plain-language English summary. Pure: the technical code (DeliveryFailure.code,
// stored with the event) and the delivery state decide; the list is documented in contracts/README.md.
import { z } from "zod";
import type { SyncState } from "./vocabulary.ts";

export const CoordinatorErrorCode = z.enum([
  "dynamics_unreachable",
  "dynamics_throttled",
  "dynamics_credentials",
  "dynamics_rejected",
  "dynamics_gone",
  "invalid_data",
  "sync_paused",
  "unknown_error",
]);
export type CoordinatorErrorCode = z.infer<typeof CoordinatorErrorCode>;

const PROBLEM: Record<Exclude<CoordinatorErrorCode, "sync_paused">, string> = {
  dynamics_unreachable: "HLF Dynamics is unreachable",
  dynamics_throttled: "HLF Dynamics is busy and asked us to slow down",
  dynamics_credentials: "HLF Dynamics did not accept our sign-in",
  dynamics_rejected: "HLF Dynamics rejected the update",
  dynamics_gone: "The HLF Dynamics address no longer exists",
  invalid_data: "The mentor's data could not be sent as it is",
  unknown_error: "Sending to HLF Dynamics failed",
};

const UNREACHABLE = new Set([
  "network",
  "timeout",
  "aborted",
  "circuit_open",
  "budget_exhausted",
  "token_endpoint_unreachable",
  "token_endpoint_timeout",
]);
const CREDENTIALS = new Set(["token_endpoint_error", "token_response_invalid"]);
const INVALID_DATA = new Set(["invalid_payload", "headers_failed"]);

/** The coordinator's code for a technical failure code (`http_503`, `network`, …). */
export function coordinatorErrorCode(technical: string): CoordinatorErrorCode {
  if (UNREACHABLE.has(technical)) return "dynamics_unreachable";
  if (CREDENTIALS.has(technical)) return "dynamics_credentials";
  if (INVALID_DATA.has(technical)) return "invalid_data";
  const http = /^http_(\d{3})$/.exec(technical);
  if (!http) return "unknown_error";
  const status = Number(http[1]);
  if (status === 429 || status === 425) return "dynamics_throttled";
  if (status === 401 || status === 403) return "dynamics_credentials";
  if (status === 404 || status === 410) return "dynamics_gone";
  if (status === 408 || status >= 500) return "dynamics_unreachable";
  return "dynamics_rejected";
}

export interface StatusFacts {
  state: SyncState;
  /** The technical code of the latest event's last failure, null when it has none. */
  technicalCode: string | null;
  /** Whether the latest event has an error text (older rows may lack the code). */
  hasError: boolean;
  attempts: number;
  nextAttemptAt: Date | null;
}

export interface CoordinatorView {
  errorCode: CoordinatorErrorCode | null;
  summary: string;
}

/** "14:05 UTC" within a day of `now`, else "2026-11-24 14:05 UTC". */
function clock(at: Date, now: Date): string {
  const iso = at.toISOString();
  const soon = Math.abs(at.getTime() - now.getTime()) < 86_400_000;
  return `${soon ? "" : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
}

export function coordinatorView(f: StatusFacts, now: Date): CoordinatorView {
  if (f.state === "held") {
    return {
      errorCode: "sync_paused",
      summary: "Sending to HLF Dynamics is paused; the change is kept and sent when it resumes.",
    };
  }
  if (f.state === "synced") return { errorCode: null, summary: "Up to date in HLF Dynamics." };
  if (!f.hasError) return { errorCode: null, summary: "Waiting to be sent to HLF Dynamics." };
  const errorCode = f.technicalCode ? coordinatorErrorCode(f.technicalCode) : "unknown_error";
  const problem = PROBLEM[errorCode as Exclude<CoordinatorErrorCode, "sync_paused">];
  switch (f.state) {
    case "retrying":
      return {
        errorCode,
        summary: f.nextAttemptAt
          ? `${problem}; retrying at ${clock(f.nextAttemptAt, now)}.`
          : `${problem}; retrying soon.`,
      };
    case "failed": {
      const tries = f.attempts === 1 ? "1 attempt" : `${f.attempts} attempts`;
      return {
        errorCode,
        summary: `${problem}; gave up after ${tries}. A coordinator can resend it.`,
      };
    }
    case "pending":
      return { errorCode, summary: `${problem} last time; sending again now.` };
  }
}

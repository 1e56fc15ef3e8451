import { describe, expect, it } from "vitest";
import {
  coordinatorErrorCode,
  coordinatorView,
  type StatusFacts,
} from "../../shared/contract/coordinator-errors.ts";

const now = new Date("2026-11-23T13:50:00.000Z");
const facts = (f: Partial<StatusFacts>): StatusFacts => ({
  state: "retrying",
  technicalCode: "network",
  hasError: true,
  attempts: 3,
  nextAttemptAt: new Date("2026-11-23T14:05:00.000Z"),
  ...f,
});

describe("coordinatorErrorCode", () => {
  it.each([
    ["network", "dynamics_unreachable"],
    ["timeout", "dynamics_unreachable"],
    ["circuit_open", "dynamics_unreachable"],
    ["token_endpoint_unreachable", "dynamics_unreachable"],
    ["http_503", "dynamics_unreachable"],
    ["http_408", "dynamics_unreachable"],
    ["http_429", "dynamics_throttled"],
    ["http_401", "dynamics_credentials"],
    ["http_403", "dynamics_credentials"],
    ["token_endpoint_error", "dynamics_credentials"],
    ["http_410", "dynamics_gone"],
    ["http_404", "dynamics_gone"],
    ["http_400", "dynamics_rejected"],
    ["http_422", "dynamics_rejected"],
    ["invalid_payload", "invalid_data"],
    ["something_new", "unknown_error"],
  ])("%s -> %s", (technical, code) => {
    expect(coordinatorErrorCode(technical)).toBe(code);
  });
});

describe("coordinatorView", () => {
  it("says when a retry is due, in UTC", () => {
    expect(coordinatorView(facts({}), now)).toEqual({
      errorCode: "dynamics_unreachable",
      summary: "HLF Dynamics is unreachable; retrying at 14:05 UTC.",
    });
  });

  it("adds the date when the retry is more than a day away", () => {
    const later = facts({ nextAttemptAt: new Date("2026-11-25T08:00:00.000Z") });
    expect(coordinatorView(later, now).summary).toBe(
      "HLF Dynamics is unreachable; retrying at 2026-11-25 08:00 UTC.",
    );
  });

  it("tells a dead letter apart and points at resend", () => {
    expect(coordinatorView(facts({ state: "failed", technicalCode: "http_401" }), now)).toEqual({
      errorCode: "dynamics_credentials",
      summary:
        "HLF Dynamics did not accept our sign-in; gave up after 3 attempts. A coordinator can resend it.",
    });
  });

  it("has no error code when all is well or simply waiting, and a paused one when held", () => {
    const synced = facts({ state: "synced", technicalCode: null, hasError: false });
    expect(coordinatorView(synced, now)).toEqual({
      errorCode: null,
      summary: "Up to date in HLF Dynamics.",
    });
    const waiting = facts({ state: "pending", technicalCode: null, hasError: false });
    expect(coordinatorView(waiting, now).errorCode).toBeNull();
    expect(coordinatorView(facts({ state: "held" }), now).errorCode).toBe("sync_paused");
  });

  it("reads an error recorded before codes were stored as unknown", () => {
    const legacy = facts({ state: "failed", technicalCode: null, attempts: 1 });
    expect(coordinatorView(legacy, now)).toEqual({
      errorCode: "unknown_error",
      summary:
        "Sending to HLF Dynamics failed; gave up after 1 attempt. A coordinator can resend it.",
    });
  });
});

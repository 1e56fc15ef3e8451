// sync-resend dispatches the event it accepts at once, so its request deadline is a send's budget
// plus REQUEST_DEADLINE_MS, as for sync-retry and the certification functions. It had only
// REQUEST_DEADLINE_MS: a Dynamics that answered slowly, well inside the send's budget, got the
// coordinator a 503 "retry" for a resend already committed, and the retry a 429 "resent less than a
// minute ago". Booted as deployed (bootFunction), against a sandbox that holds the removal longer
// than REQUEST_DEADLINE_MS.
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import * as syncResend from "../../functions/sync-resend/app.ts";
import { bootFunction } from "../../shared/serve.ts";
import { createListedMentor } from "../support/factories.ts";
import { dispatchEnv, useDispatchFixture } from "./dispatch-harness.ts";

const fixture = useDispatchFixture();
// Far above a warm request's own work on a loaded CI machine; the sandbox holds the removal longer.
const REQUEST_DEADLINE_MS = 1_500;
const HOLD_MS = REQUEST_DEADLINE_MS + 1_000;
const SERVICE_KEY = `sb_secret_${randomBytes(16).toString("base64url")}`;

it("answers a resend that Dynamics takes longer than REQUEST_DEADLINE_MS to accept with 202, once", async () => {
  const { db, sandbox } = fixture;
  const handler = bootFunction(
    { name: "sync-resend", ...syncResend },
    dispatchEnv(db.url, sandbox, {
      SUPABASE_URL: "http://127.0.0.1:9",
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: SERVICE_KEY }),
      REQUEST_DEADLINE_MS: String(REQUEST_DEADLINE_MS),
      DYNAMICS_ATTEMPT_TIMEOUT_MS: String(HOLD_MS + 2_000),
    }),
  );
  const resend = async (mentorId: string) => {
    const res = await handler(
      new Request("http://f/sync-resend", {
        method: "POST",
        headers: { apikey: SERVICE_KEY, "content-type": "application/json" },
        body: JSON.stringify({ mentorId }),
      }),
    );
    return { status: res.status, body: await res.json() };
  };
  // Warm: the first request also connects, fetches a token and the driver's types.
  const warm = await createListedMentor(db.sql);
  expect((await resend(warm.mentorId)).status).toBe(202);

  const { mentorId } = await createListedMentor(db.sql);
  await sandbox.control.faults({ kind: "hang", ms: HOLD_MS, count: 1 });
  const slow = await resend(mentorId);
  expect(slow).toEqual({
    status: 202,
    body: expect.objectContaining({ mentorId, state: "delivered", attempts: 1 }),
  });
  expect((await resend(mentorId)).status).toBe(429);
});

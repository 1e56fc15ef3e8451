// How the Flutter app and the dashboard read sync status, with @supabase/supabase-js against the
// local stack (`npm start -- --seed`). The app gets its JWT from Supabase Auth; here we mint the demo
// coordinator's with the local stack's signing key (kept in the data folder, ES256, as Supabase
// Auth signs today).
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { readEnvironment } from "../shared/config.ts";
import { createLocalAuth } from "../local/auth.ts";
import { localSettings } from "../local/env.ts";
import { DEMO } from "../local/seed-data.ts";

const settings = localSettings(readEnvironment());
const gatewayUrl = `http://127.0.0.1:${settings.ports.gateway}`;
const auth = await createLocalAuth(`${gatewayUrl}/auth/v1`, settings.dataDir);
const coordinatorJwt = await auth.mint({
  role: "authenticated",
  sub: DEMO.coordinatorUserId,
});
const anonKey = await auth.mint({ role: "anon" });

const supabase = createClient(gatewayUrl, anonKey, {
  global: { headers: { Authorization: `Bearer ${coordinatorJwt}` } },
  // Node 20 has no WebSocket of its own (supabase-js wants one for realtime); Node 22+ and Flutter don't need this.
  realtime: { transport: ws as never },
});

const { data: status, error } = await supabase.functions.invoke("sync-status", {
  body: { mentorId: DEMO.mentorId },
});
console.log("one mentor:", error ?? status);

const { data: page } = await supabase.functions.invoke("sync-status?list=true&limit=10", {
  method: "GET",
});
console.log("coordinator's mentors:", page);

const { error: notVisible } = await supabase.functions.invoke("sync-status", {
  body: { mentorId: DEMO.otherOrgMentorId },
});
console.log("another organisation's mentor:", notVisible?.context?.status); // 404

// How the Flutter app and the dashboard read sync status, with @supabase/supabase-js against the
// local stack (`npm start -- --seed`). The app gets its JWT from Supabase Auth; here we mint the demo
// coordinator's with the local JWT secret.
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { LOCAL_JWT_SECRET } from "../shared/config.ts";
import { mintJwt } from "../shared/jwt.ts";
import { DEMO } from "../local/seed-data.ts";

const coordinatorJwt = await mintJwt(LOCAL_JWT_SECRET, {
  role: "authenticated",
  sub: DEMO.coordinatorUserId,
});
const anonKey = await mintJwt(LOCAL_JWT_SECRET, { role: "anon" });

const supabase = createClient("http://127.0.0.1:54321", anonKey, {
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

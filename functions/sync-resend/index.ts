import { bootFunction } from "../../shared/serve.ts";
import { createApp, needs } from "./app.ts";

Deno.serve(bootFunction({ name: "sync-resend", needs, createApp }));

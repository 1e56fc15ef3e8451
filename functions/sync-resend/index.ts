import { createRuntime } from "../../shared/runtime.ts";
import { createApp } from "./app.ts";

const app = createApp(createRuntime());
Deno.serve(app.fetch);

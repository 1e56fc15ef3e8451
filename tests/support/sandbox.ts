// A Dynamics sandbox on a free port for one test file, plus client options pointing at it.
import { afterAll, afterEach, beforeAll } from "vitest";
import {
  type SandboxControl,
  sandboxControl,
} from "../../local/dynamics-sandbox/control-client.ts";
import {
  type RunningSandbox,
  startSandbox,
  type StartSandboxOptions,
} from "../../local/dynamics-sandbox/server.ts";
import type { DynamicsClientOptions } from "../../shared/dynamics/dynamics-client.ts";
import { type ClientOverrides, refreshSkewSeconds, withClientDefaults } from "./config-defaults.ts";

export const TEST_CLIENT_ID = "hlf-sync-test";
export const TEST_CLIENT_SECRET = "test-client-secret-Zq8vK2";
export const TEST_SIGNING_SECRET = "test-signing-secret-Hh41xP";
export const TEST_API_KEY = "test-api-key-Wm93tR";
export const TEST_API_KEY_HEADER = "x-api-key";
export const TEST_SCOPE = "https://hlf-sandbox.crm4.dynamics.com/.default";

export interface TestSandbox extends RunningSandbox {
  control: SandboxControl;
  /** Client options for this sandbox in oauth2 mode, over the configured defaults; override anything. */
  clientOptions(overrides?: Partial<ClientOverrides>): DynamicsClientOptions;
}

export async function startTestSandbox(options: StartSandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox({
    port: 0,
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
    signingSecrets: [TEST_SIGNING_SECRET],
    apiKey: TEST_API_KEY,
    apiKeyHeader: TEST_API_KEY_HEADER,
    ...options,
  });
  return {
    ...sandbox,
    control: sandboxControl(sandbox.url),
    clientOptions: (overrides = {}) =>
      withClientDefaults({
        webhookUrl: sandbox.webhookUrl,
        auth: {
          mode: "oauth2",
          tokenUrl: sandbox.tokenUrl,
          clientId: TEST_CLIENT_ID,
          clientSecret: TEST_CLIENT_SECRET,
          scope: TEST_SCOPE,
          refreshSkewSeconds,
        },
        ...overrides,
      }),
  };
}

/** One sandbox for the calling test file: started before all, reset after each, stopped after all. */
export function useTestSandbox(options: StartSandboxOptions = {}): () => TestSandbox {
  let sandbox: TestSandbox | undefined;
  beforeAll(async () => {
    sandbox = await startTestSandbox(options);
  });
  afterEach(() => sandbox?.control.reset());
  afterAll(() => sandbox?.stop());
  return () => {
    if (!sandbox) throw new Error("the test sandbox is not running (use it inside a test)");
    return sandbox;
  };
}

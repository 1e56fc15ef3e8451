// The sandbox's inspector page in a real headless browser (Debian's chromium driven by
// puppeteer-core, never a downloaded browser): it shows the deliveries received (signature verdict,
// answer, headers without credentials), and its buttons queue a fault and edit listings, checked
// through the control API. A screenshot is kept in artifacts/ (git-ignored).
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJson } from "../../shared/contract/payload.ts";
import { outboundHeaders } from "../../shared/contract/signer.ts";
import { payload } from "../support/payload-factory.ts";
import {
  startTestSandbox,
  TEST_API_KEY,
  TEST_API_KEY_HEADER,
  TEST_SIGNING_SECRET,
  type TestSandbox,
} from "../support/sandbox.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(process.cwd(), "artifacts");
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";

if (!haveChromium && !inCi) {
  console.warn(
    `inspector-browser: SKIPPED, ${CHROMIUM} is absent (apt-get install chromium; CI installs it)`,
  );
}

// The callbacks given to page.$eval and page.waitForFunction run in the browser. This file is
// type-checked without the DOM lib (a `reference lib="dom"` would apply to every file deno checks
// with it), so the little of the DOM those callbacks touch is declared here, in this module only.
interface BrowserInput {
  value: string;
  checked: boolean;
}
interface BrowserDetails {
  open: boolean;
}
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

let sandbox: TestSandbox;
let browser: Browser;
let page: Page;
let profile: string;

async function deliver(mentorId: string, secret = TEST_SIGNING_SECRET): Promise<number> {
  const event = payload({
    eventId: crypto.randomUUID(),
    occurredAt: new Date(),
    mentorId,
    eventType: "certification.renewed",
  });
  const body = toJson(event);
  const headers = await outboundHeaders({
    id: event.eventId,
    body,
    secret,
    timestampSeconds: Date.now() / 1000,
  });
  const response = await fetch(sandbox.webhookUrl, {
    method: "POST",
    headers: { ...headers, [TEST_API_KEY_HEADER]: TEST_API_KEY },
    body,
  });
  await response.body?.cancel();
  return response.status;
}

const rowTexts = (table: string, column: string) =>
  page.$$eval(
    `#${table} tbody tr .${column}`,
    (cells) => cells.map((c) => c.textContent ?? ""),
  );

async function reload() {
  await page.click("#refresh");
  await new Promise((r) => setTimeout(r, 200));
}

describe.skipIf(!haveChromium && !inCi)("sandbox inspector page (headless chromium)", () => {
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI must run this test: ${CHROMIUM} is not installed`);
    sandbox = await startTestSandbox();
    profile = await mkdtemp(join(tmpdir(), "hlf-inspector-chromium-"));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--user-data-dir=${profile}`,
      ],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it("shows deliveries, queues a fault and edits listings through its buttons", async () => {
    const listed = crypto.randomUUID();
    expect(await deliver(listed)).toBe(204);
    expect(await deliver(crypto.randomUUID(), "a-wrong-signing-secret")).toBe(403);

    await page.goto(`${sandbox.url}/`, { waitUntil: "networkidle0" });
    expect(await page.title()).toMatch(/HLF Dynamics sandbox/);
    // The page re-renders its tables every 2 s while "auto" is on: a row's button could be replaced
    // between finding and clicking it (CI: "Node is detached from document"). The test refreshes
    // explicitly instead.
    await page.$eval("#auto", (box: BrowserInput) => box.checked = false);
    // Latest first: the forged one, then the good one.
    expect(await rowTexts("deliveries", "signature")).toEqual([
      "failed: signature_mismatch",
      expect.stringMatching(/^verified \(/),
    ]);
    expect(await rowTexts("deliveries", "answer")).toEqual(["403", "204"]);
    const shown = await page.$eval("#deliveries", (t) => t.textContent ?? "");
    expect(shown).not.toContain(TEST_API_KEY);
    expect(shown).toContain(`${TEST_API_KEY_HEADER}: [redacted]`);
    const bodies = await page.$$eval(".request-body", (ps) => ps.map((p) => p.textContent ?? ""));
    expect(JSON.parse(bodies[1])).toMatchObject({ mentorId: listed, listingAction: "reinstate" });

    // Queue a fault with the form.
    await page.select("#fault-kind", "status");
    await page.$eval("#fault-status", (input: BrowserInput) => input.value = "");
    await page.type("#fault-status", "503");
    await page.$eval("#fault-count", (input: BrowserInput) => input.value = "");
    await page.type("#fault-count", "2");
    await page.click("#fault-submit");
    await page.waitForFunction(() => document.querySelectorAll("#faults tbody tr").length === 1);
    const faults = await (await fetch(`${sandbox.url}/__control/faults`)).json();
    expect(faults.queued.webhook).toEqual([expect.objectContaining({
      kind: "status",
      status: 503,
      count: 2,
    })]);
    expect(await rowTexts("faults", "count")).toEqual(["2"]);
    expect(await deliver(crypto.randomUUID())).toBe(503);
    await reload();
    expect((await rowTexts("deliveries", "answer"))[0]).toBe("503");
    expect(await rowTexts("faults", "count")).toEqual(["1"]);

    // Edit a listing with its row's button, as a portal editor would.
    await page.click(`#listings tr[data-mentor="${listed}"] button.toggle`);
    await page.waitForFunction(
      (id) =>
        document.querySelector(`#listings tr[data-mentor="${id}"] .listing`)?.textContent ===
          "unlisted",
      {},
      listed,
    );
    expect(await sandbox.control.listing(listed)).toMatchObject({
      listing: "unlisted",
      source: "editor",
    });

    // And one the sandbox never saw, with the form.
    const unknown = crypto.randomUUID();
    await page.type("#listing-mentor", unknown);
    await page.select("#listing-value", "listed");
    await page.click("#listing-submit");
    await page.waitForSelector(`#listings tr[data-mentor="${unknown}"]`);
    expect(await sandbox.control.listing(unknown)).toMatchObject({
      listing: "listed",
      source: "editor",
    });
    expect(await page.$eval("#message", (m) => m.textContent)).toBe(
      `listing of ${unknown} set to listed`,
    );

    await page.$eval("#deliveries details", (details: BrowserDetails) => details.open = true);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "sandbox-inspector.png"), fullPage: true });
    expect(existsSync(join(ARTIFACTS, "sandbox-inspector.png"))).toBe(true);
  }, 90_000);
});

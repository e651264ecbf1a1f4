// End-to-end tests of the dashboard: Debian's Chromium, driven by playwright-core, against the server as
// `npm start` runs it (its own process, with the example workflows). Each test does what a person would do in the
// browser and checks what they would see. One server and one build for all: the test modules register into
// this one suite. Screenshots go to test-artifacts/screenshots/.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe } from "vitest";
import { pageTests } from "./pages.ts";
import { runFlowTests } from "./run-flow.ts";
import { startE2E, stopE2E } from "./support.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`e2e: ${CHROMIUM} not found (apt-get install -y chromium); dashboard e2e skipped`);

// CI installs Chromium (.ci/run): there, a missing browser is a failure, not a reason to skip.
describe.skipIf(!haveChromium && !process.env.CI)("dashboard (e2e, Chromium)", () => {
  beforeAll(startE2E, 120_000);
  afterAll(stopE2E);
  runFlowTests();
  pageTests();
});

// Test-only: opens a reviewer's page in headless Chromium, as a phone would (390 px wide),
// chooses keep or revoke per item (typing a reason where given), clicks the submit button and
// prints what the browser showed, as JSON on stdout:
//   {"status", "text", "html", "after": {"status", "text", "html"}, "overflow"}
// Usage: node review.mjs URL '[{"id": "...", "decision": "keep"|"revoke", "reason": "..."}]'
// With an empty list it only opens the page. CHROMIUM names the browser (default /usr/bin/chromium).
import { chromium } from "playwright-core";

const [url, decisionsJson = "[]"] = process.argv.slice(2);
const decisions = JSON.parse(decisionsJson);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
  const page = await context.newPage();
  const first = await page.goto(url);
  const shown = { status: first.status(), text: await page.innerText("body"), html: await page.content() };
  // Readable on a phone: nothing wider than the viewport.
  shown.overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth).catch(() => null);
  if (decisions.length > 0) {
    for (const d of decisions) {
      await page.check(`input[name="decision.${d.id}"][value="${d.decision}"]`);
      if (d.reason) await page.fill(`#reason-${d.id}`, d.reason);
    }
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.click('button[type="submit"]'),
    ]);
    shown.after = { status: response.status(), text: await page.innerText("body"), html: await page.content() };
  }
  process.stdout.write(JSON.stringify(shown));
} finally {
  await browser.close();
}

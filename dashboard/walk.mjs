import { chromium } from "playwright";
const base = "http://127.0.0.1:8765";
const [alertId, caseId, invId] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
const errors = [];
page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
await page.goto(base + "/login");
await page.getByLabel("Username").fill("admin");
await page.getByLabel("Password").fill("walk-through-pass-1");
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForTimeout(2500);
const shots = [
  ["alerts", "/alerts"],
  ["alert", `/alerts/${alertId}`],
  ["cases", "/cases"],
  ["case", `/cases/${caseId}`],
  ["siem", "/siem?q=host:MSEDGEWIN10&range=all"],
  ["coverage", "/detections/coverage"],
  ["investigation", `/investigations/${invId}`],
  ["intel", "/threat-intel"],
];
for (const [name, path] of shots) {
  await page.goto(base + path);
  await page.waitForTimeout(3000);
  await page.screenshot({ path: `/tmp/walk/shots/${name}.png`, fullPage: true });
}
console.log(errors.join("\n"));
await browser.close();

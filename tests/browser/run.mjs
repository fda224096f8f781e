// Drives Debian's Chromium (headless) against a running `sse serve`, for
// tests/browser.bats. Usage:
//   node run.mjs viewer URL SHOT     the viewer page shows the lines fed to
//                                    the server and its filter works; SHOT
//                                    is a screenshot path
//   node run.mjs eventsource URL FLAG  Chromium's own EventSource gets the
//                                    stream (custom types too); once it has
//                                    id 3 it creates FLAG and waits for the
//                                    test to restart the server, then must
//                                    resume after id 3
//   node run.mjs hostile URL N       the viewer shows N events whose ids,
//                                    types and data are markup and script:
//                                    nothing runs, each shows verbatim
//   node run.mjs colors URL SHOT     the viewer shows ANSI SGR colours in
//                                    data as styled spans, other control
//                                    characters escaped; SHOT a screenshot
//   node run.mjs topics URL -        Chromium's EventSource follows two
//                                    topics on one connection (the test
//                                    published a1, b1, a2 before); then
//                                    the viewer shows them with their
//                                    topics, and its picker narrows to b
// Prints one JSON object with what the page saw; exits 1 on a failed check.
import { chromium } from "playwright-core";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [mode, url, arg] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "sse-chromium-"));
let ctx;

function fail(msg, extra) {
  console.log(JSON.stringify({ ok: false, error: msg, ...extra }));
  process.exitCode = 1;
}

async function viewer(page) {
  await page.setViewportSize({ width: 1100, height: 640 });
  await page.goto(url);
  // The test feeds: alpha, beta, a JSON object, gamma.
  await page.waitForFunction(
    () => document.querySelectorAll("#rows tr").length >= 4,
    null, { timeout: 15000 });
  await page.waitForFunction(
    () => document.getElementById("status").dataset.state === "live",
    null, { timeout: 5000 });
  const rows = await page.$$eval("#rows tr", (trs) => trs.map((tr) => ({
    type: tr.children[1].textContent,
    id: tr.children[2].textContent,
    data: tr.children[3].textContent,
  })));
  const lastId = await page.textContent("#last-id");
  // An id too long for its column (EPOCH-N) is cut on the left: the end
  // of its text, where the counter is, lies within the cell.
  const idEnds = await page.$$eval("#rows td.id", (tds) => tds.map((td) => {
    const s = td.firstElementChild.getBoundingClientRect();
    const c = td.getBoundingClientRect();
    return s.right <= c.right + 1;
  }));
  await page.screenshot({ path: arg });
  await page.fill("#filter", "beta");
  const shown = await page.$$eval("#rows tr:not([hidden])",
    (trs) => trs.map((tr) => tr.children[3].textContent));
  await page.fill("#filter", "");
  await page.selectOption("#type", "log");
  const byType = await page.$$eval("#rows tr:not([hidden])",
    (trs) => trs.length);
  const out = { rows, lastId, shown, byType };
  const datas = rows.map((r) => r.data);
  if (!datas.includes("alpha") || !datas.includes("gamma"))
    return fail("lines missing from the page", out);
  if (shown.length !== 1 || shown[0] !== "beta")
    return fail("the text filter did not narrow to beta", out);
  if (!rows.some((r) => r.data.includes('"nested": [\n')))
    return fail("JSON data not pretty-printed", out);
  if (idEnds.length === 0 || idEnds.includes(false))
    return fail("an id's counter is cut off in its column", { idEnds, ...out });
  console.log(JSON.stringify({ ok: true, ...out }));
}

async function eventsource(page) {
  // Same origin: the page at / serves as the document for EventSource.
  await page.goto(url);
  await page.evaluate(() => {
    window.got = [];
    window.opens = 0;
    const es = new EventSource("events");
    const take = (e) => window.got.push({ type: e.type, id: e.lastEventId,
      data: e.data });
    es.onmessage = take;
    es.addEventListener("build", take);
    es.addEventListener("done", take);
    es.onopen = () => window.opens++;
  });
  await page.waitForFunction(() => window.got.some((e) => e.id === "3"),
    null, { timeout: 15000 });
  writeFileSync(arg, "have 3\n");
  await page.waitForFunction(() => window.got.some((e) => e.id === "5"),
    null, { timeout: 20000 });
  const got = await page.evaluate(() => window.got);
  const opens = await page.evaluate(() => window.opens);
  const ids = got.map((e) => e.id).join(",");
  const out = { got, opens };
  if (ids !== "1,2,3,4,5")
    return fail(`ids ${ids}, want 1,2,3,4,5 (resumed after 3)`, out);
  if (got[1].type !== "build" || got[4].type !== "done")
    return fail("custom event types not delivered", out);
  if (opens < 2)
    return fail("no reconnection seen", out);
  console.log(JSON.stringify({ ok: true, ...out }));
}

// The test feeds N events; each id, type and data tries to run script
// that sets document.body.dataset.pwned (or window.pwned).
async function hostile(page) {
  const n = Number(arg);
  let dialogs = false;
  page.on("dialog", (d) => { dialogs = true; d.dismiss(); });
  await page.goto(url);
  await page.waitForFunction(
    (n) => document.querySelectorAll("#rows tr").length >= n,
    n, { timeout: 15000 });
  // Give focus, load and error handlers a moment to fire.
  await page.waitForTimeout(500);
  await page.focus("#filter");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await page.waitForTimeout(200);
  const rows = await page.$$eval("#rows tr", (trs) => trs.map((tr) => ({
    type: tr.children[1].textContent,
    id: tr.children[2].textContent,
    title: tr.children[2].getAttribute("title"),
    data: tr.children[3].textContent,
    elements: tr.querySelectorAll("*").length,
  })));
  const pwned = await page.evaluate(() =>
    document.body.dataset.pwned || window.pwned || null);
  const lastId = await page.textContent("#last-id");
  const out = { rows, pwned, lastId };
  if (pwned !== null || dialogs)
    return fail("script from an event ran", out);
  console.log(JSON.stringify({ ok: true, ...out }));
}

// The test feeds: red, bold 256-colour orange, an erase-display sequence.
async function colors(page) {
  await page.setViewportSize({ width: 900, height: 300 });
  await page.goto(url);
  await page.waitForFunction(
    () => document.querySelectorAll("#rows tr").length >= 3,
    null, { timeout: 15000 });
  const rows = await page.$$eval("#rows tr pre", (pres) => pres.map((pre) => ({
    text: pre.textContent,
    tags: [...pre.querySelectorAll("*")].map((e) => e.tagName),
    spans: [...pre.querySelectorAll("span")].map((e) => ({
      cls: e.className, text: e.textContent,
      color: getComputedStyle(e).color,
      weight: getComputedStyle(e).fontWeight })),
  })));
  await page.screenshot({ path: arg });
  const out = { rows };
  const [red, orange, erase] = rows;
  if (red.text !== "red plain" || red.spans.length !== 1 ||
      red.spans[0].cls !== "fg-1" || red.spans[0].text !== "red" ||
      red.spans[0].color !== "rgb(198, 40, 40)")
    return fail("ESC[31m did not make a red span", out);
  if (orange.spans.length !== 1 || orange.spans[0].cls !== "sgr-b" ||
      orange.spans[0].color !== "rgb(255, 135, 0)" ||
      orange.spans[0].weight !== "700")
    return fail("ESC[1;38;5;208m did not make bold orange", out);
  if (erase.text !== "x\\x1B[2Jy" || erase.spans.length !== 1 ||
      erase.spans[0].cls !== "ctl")
    return fail("ESC[2J not shown escaped", out);
  if (rows.some((r) => r.tags.some((t) => t !== "SPAN")))
    return fail("an element other than span in the data", out);
  console.log(JSON.stringify({ ok: true, ...out }));
}

async function topics(page) {
  await page.goto(url);
  await page.evaluate(() => {
    window.got = [];
    const es = new EventSource("events?topic=a&topic=b");
    const take = (e) => window.got.push({ type: e.type, id: e.lastEventId,
      data: e.data });
    es.onmessage = take;
    es.addEventListener("note", take);
  });
  await page.waitForFunction(() => window.got.length >= 3, null,
    { timeout: 15000 });
  const got = await page.evaluate(() => window.got);
  const out = { got };
  const datas = got.map((e) => e.data).sort().join(",");
  if (datas !== "a1,a2,b1")
    return fail(`events ${datas}, want a1,a2,b1`, out);
  const a2 = got.find((e) => e.data === "a2");
  // Topic ids are EPOCH-N, the epoch this process's topics' own.
  if (!/^a:([0-9a-z]{8})-2( b:\1-1)?$/.test(a2.id))
    return fail(`a2's id ${a2.id}, want a:EPOCH-2 b:EPOCH-1`, out);
  if (got.find((e) => e.data === "b1").type !== "note")
    return fail("b1's type is not note", out);
  // The viewer, following both, then the picker: only b.
  await page.goto(url + "?topic=a&topic=b");
  await page.waitForFunction(
    () => document.querySelectorAll("#rows tr").length >= 3,
    null, { timeout: 15000 });
  out.rows = await page.$$eval("#rows tr", (trs) => trs.map((tr) =>
    tr.children[1].textContent));
  if (out.rows.sort().join(",") !== "amessage,amessage,bnote")
    return fail("the viewer's rows lack their topics", out);
  await page.fill("#topics", "b");
  await page.dispatchEvent("#topics", "change");
  await page.waitForFunction(() => {
    const trs = document.querySelectorAll("#rows tr");
    return trs.length === 1 && trs[0].children[3].textContent === "b1";
  }, null, { timeout: 15000 });
  out.search = await page.evaluate(() => location.search);
  if (out.search !== "?topic=b")
    return fail("the picker did not change the page's URL", out);
  console.log(JSON.stringify({ ok: true, ...out }));
}

try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
      "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  if (mode === "viewer")
    await viewer(page);
  else if (mode === "eventsource")
    await eventsource(page);
  else if (mode === "hostile")
    await hostile(page);
  else if (mode === "colors")
    await colors(page);
  else if (mode === "topics")
    await topics(page);
  else
    fail(`unknown mode ${mode}`);
} catch (e) {
  fail(String(e && e.message || e));
} finally {
  if (ctx)
    await ctx.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  if (existsSync(profile))
    process.exitCode = 1;
}

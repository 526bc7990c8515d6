// The fleet dashboard: reads the catalog's API and follows its SSE stream, no reload needed.
"use strict";
const DAY_MS = 24 * 3600 * 1000;
const SILENT_MS = 15 * 60 * 1000;
const CAPACITY_ALERT = 80; // percent, as pool-service's default capacity alert
// Every view is bounded whatever the fleet's size: a 10,000-pool fleet is a summary (counts from
// /api/summary), a page of pools (those needing attention first) and the chunks of that page.
// Pools per page (?pools=N, 1 to 100, for a bigger screen); each costs two requests (detail,
// generations) when it changed.
const PAGE = Math.min(100, Math.max(1, Number(new URLSearchParams(location.search).get("pools")) || 12));
const HOSTS_SHOWN = 50;
const CELLS_PER_POOL = 240; // chunk cells drawn per pool; a bigger pool says how many more
const MAX_ALERTS = 24;
const FEED_SIZE = 200;
const MIN_REFRESH_MS = 1000; // an ingesting fleet sends thousands of events a second
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => (k === "class" ? (e.className = v) : e.setAttribute(k, v)));
  children.forEach((c) => e.append(c));
  return e;
};
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
const size = (b) => {
  if (b == null) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (b >= 10 || i === 0 ? b.toFixed(0) : b.toFixed(1)) + " " + units[i];
};
const ago = (t) => {
  if (!t) return "never";
  const s = Math.max(0, (Date.now() - Date.parse(t)) / 1000);
  if (s < 90) return Math.round(s) + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 2 * 86400) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
};

// Aborted when the page goes away, so a navigation does not leave the service working for a page
// nobody will see (the browser closes the connections; the service then stops writing).
const leaving = new AbortController();

async function json(path) {
  const r = await fetch(path, { signal: leaving.signal });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

const details = new Map(); // poolId -> {detail, generations, updatedAt}
let page = 0;
let pageCount = 1;

// Each part is drawn as soon as its answer is in; the pools and their chunks wait for the details.
async function refresh() {
  const summary = json("/api/summary").then((s) => { renderSummary(s); return s; });
  const hosts = Promise.all([json("/api/hosts?limit=" + HOSTS_SHOWN), summary])
    .then(([h, s]) => { renderHosts(h, s); return h; });
  const silent = json("/api/hosts?notSeenFor=PT15M&limit=" + MAX_ALERTS);
  const faulted = json("/api/chunks?state=faulted&limit=4");
  const pools = json(`/api/pools?order=attention&limit=${PAGE}&offset=${page * PAGE}`).then(async (ps) => {
    const live = ps.filter((p) => p.state !== "destroyed");
    await Promise.all(live.map(loadDetail));
    return live;
  });
  const [s, , quiet, bad, live] = await Promise.all([summary, hosts, silent, faulted, pools]);
  renderAlerts(s, quiet, live, bad);
  renderPools(live, s);
  renderChunks(live);
}

function alerting(p) {
  return (p.usedPercent || 0) >= CAPACITY_ALERT || (p.health && p.health !== "ONLINE");
}

async function loadDetail(p) {
  const known = details.get(p.poolId);
  if (known && known.updatedAt === p.updatedAt) return;
  const [detail, generations] = await Promise.all([
    json("/api/pools/" + encodeURIComponent(p.poolId)),
    json("/api/pools/" + encodeURIComponent(p.poolId) + "/generations"),
  ]);
  details.set(p.poolId, { detail, generations, updatedAt: p.updatedAt });
}

const count = (n) => Number(n || 0).toLocaleString("en");

function tile(key, n, label, level) {
  return el("div", { class: "tile" + (n > 0 && level ? " " + level : ""), "data-count": key },
    el("b", {}, count(n)), el("span", {}, label));
}

function renderSummary(s) {
  const h = s.pools.byHealth || {}, st = s.chunks.byState || {};
  $("#summary").textContent = `${count(s.hosts.total)} hosts · ${count(s.pools.total)} pools · ` +
    `${count(s.chunks.total)} chunks · ${size(s.pools.allocatedBytes)} of ${size(s.pools.sizeBytes)} allocated`;
  const unhealthy = Object.entries(h).filter(([k]) => k !== "ONLINE");
  $("#fleet").replaceChildren(
    tile("hosts", s.hosts.total, "hosts"),
    tile("hosts-silent", s.hosts.notSeen, "hosts silent 15 min", "warn"),
    tile("pools", s.pools.total, "pools"),
    tile("pools-ONLINE", h.ONLINE, "ONLINE"),
    // "unknown": a pool only other topics have named so far (pool-service's event is still to come).
    ...unhealthy.map(([k, n]) => tile("pools-" + k, n, k, k === "unknown" ? null : k === "DEGRADED" ? "warn" : "bad")),
    tile("pools-above", s.pools.aboveThreshold, `pools ≥ ${s.thresholds.minUsedPercent}% used`, "warn"),
    tile("pools-sync-lagging", s.pools.syncLagging, "pools not backed up for a day", "warn"),
    tile("chunks", s.chunks.total, "chunks"),
    ...["provisioned", "attached", "in-pool", "faulted", "destroyed"].map((k) =>
      tile("chunks-" + k, st[k], k, k === "faulted" ? "bad" : null)),
    tile("chunks-unsynced", s.chunks.unsynced, "chunks not backed up for a day", "warn"));
}

function renderAlerts(s, silent, pools, faulted) {
  const items = [];
  const now = Date.now();
  for (const p of pools) {
    const name = p.name || p.poolId;
    if ((p.usedPercent || 0) >= CAPACITY_ALERT) {
      items.push(el("li", { class: p.usedPercent >= 95 ? "bad" : "", "data-alert": "capacity", "data-pool": p.poolId },
        `${name}: ${p.usedPercent.toFixed(0)}% used (${size(p.allocatedBytes)} of ${size(p.sizeBytes)})`));
    }
    if (p.health && p.health !== "ONLINE") {
      items.push(el("li", { class: p.health === "DEGRADED" ? "" : "bad", "data-alert": "health", "data-pool": p.poolId },
        `${name} is ${p.health}`));
    }
    if (p.lastSyncedAt == null || now - Date.parse(p.lastSyncedAt) > DAY_MS) {
      items.push(el("li", { "data-alert": "sync", "data-pool": p.poolId },
        `${name}: last backup ${ago(p.lastSyncedAt)}`));
    }
  }
  const nFaulted = (s.chunks.byState || {}).faulted || 0;
  if (nFaulted) {
    items.push(el("li", { class: "bad", "data-alert": "faulted" },
      `${count(nFaulted)} faulted chunk${nFaulted > 1 ? "s" : ""}: ${faulted.map((c) => c.chunkId).join(", ")}` +
      (nFaulted > faulted.length ? ", …" : "")));
  }
  for (const h of silent) {
    items.push(el("li", { "data-alert": "silent", "data-host": h.hostId }, `host ${h.hostId} silent since ${ago(h.lastSeen)}`));
  }
  // The page shows a page of pools; the counts say how many more the fleet has.
  const onPage = (pred) => pools.filter(pred).length;
  const more = [
    [s.pools.aboveThreshold - onPage((p) => (p.usedPercent || 0) >= CAPACITY_ALERT), `pools ≥ ${s.thresholds.minUsedPercent}% used`],
    [Object.entries(s.pools.byHealth || {}).filter(([k]) => k !== "ONLINE" && k !== "unknown")
      .reduce((n, [, v]) => n + v, 0) - onPage((p) => p.health && p.health !== "ONLINE"), "pools not ONLINE"],
    [s.pools.syncLagging - onPage((p) => p.lastSyncedAt == null || now - Date.parse(p.lastSyncedAt) > DAY_MS), "pools not backed up for a day"],
    [s.hosts.notSeen - silent.length, "silent hosts"],
  ].filter(([n]) => n > 0).map(([n, what]) => `${count(n)} more ${what}`);
  // The worst first (red: full or failing; amber: filling or degraded; then backups and silent
  // hosts), in page order within each, so a cut list keeps what is most urgent.
  const severity = (li) => (li.className === "bad" ? 0 : ["capacity", "health"].includes(li.dataset.alert) ? 1 : 2);
  items.sort((a, b) => severity(a) - severity(b));
  // A whole fleet in trouble would bury the page; the first ones and the counts are enough here.
  const shown = items.slice(0, MAX_ALERTS);
  if (items.length > MAX_ALERTS) more.unshift(`${items.length - MAX_ALERTS} more on this page`);
  if (more.length) shown.push(el("li", { class: "more" }, more.join(" · ")));
  $("#alerts").replaceChildren(...(shown.length ? shown : [el("li", { class: "none" }, "none")]));
}

function renderHosts(hosts, s) {
  const now = Date.now();
  $("#hosts-count").textContent = s.hosts.total > hosts.length ? `first ${hosts.length} of ${count(s.hosts.total)}` : "";
  $("#hosts tbody").replaceChildren(...hosts.map((h) =>
    el("tr", { "data-host": h.hostId, class: now - Date.parse(h.lastSeen) > SILENT_MS ? "silent" : "" },
      el("td", {}, h.hostId), el("td", { title: h.lastSeen }, ago(h.lastSeen)),
      el("td", {}, h.services.map((s) => s.service.replace("-service", "")).join(", ")))));
}

function renderPools(pools, s) {
  pageCount = Math.max(1, Math.ceil(s.pools.total / PAGE));
  const first = page * PAGE;
  $("#page").textContent = pools.length
    ? `${count(first + 1)}–${count(first + pools.length)} of ${count(s.pools.total)}` : `none of ${count(s.pools.total)}`;
  $("#prev").disabled = page === 0;
  $("#next").disabled = page + 1 >= pageCount;
  $("#pools").replaceChildren(...pools.map((p) => {
    const used = p.usedPercent == null ? 0 : p.usedPercent;
    const card = el("div", { class: "pool", "data-pool": p.poolId },
      el("div", { class: "title" }, el("b", {}, p.name || p.poolId),
        el("span", { class: "host" }, `${p.layout || ""} ×${p.width || "?"} on ${p.hostId || "?"}`),
        el("span", { class: "health " + (p.health || "unknown") }, p.health || "unknown")),
      el("div", { class: "facts" },
        el("span", {}, `${size(p.allocatedBytes)} / ${size(p.sizeBytes)} (${used.toFixed(0)}%)`),
        el("span", {}, p.lastSyncedGeneration != null ? `gen ${p.lastSyncedGeneration}, ${ago(p.lastSyncedAt)}` : "never backed up")),
      el("div", { class: "bar" }, el("div", { class: used >= 95 ? "full" : used >= CAPACITY_ALERT ? "high" : "", style: `width:${Math.min(100, used)}%` })));
    const d = details.get(p.poolId);
    if (d) {
      const chart = el("div");
      chart.innerHTML = chartSvg(p, d.detail, d.generations);
      card.append(chart.firstChild);
    }
    return card;
  }));
}

// Size over time as a step area (creation, then each growth), backups as dots below it; the time
// axis runs from the pool's first event to its last, so a history of minutes is not squashed
// against weeks of quiet.
function chartSvg(p, detail, generations) {
  const W = 320, H = 64, top = 12, base = 44;
  const growth = detail.growth || [];
  const start = Date.parse(p.createdAt || (growth[0] && growth[0].grownAt) || p.updatedAt);
  const times = [start, Date.parse(p.updatedAt), ...growth.map((g) => Date.parse(g.grownAt)),
    ...generations.map((g) => Date.parse(g.finishedAt || g.startedAt)).filter((t) => !isNaN(t))];
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const x = (t) => (6 + ((t - t0) / Math.max(1, t1 - t0)) * (W - 12)).toFixed(1);
  const steps = [[start, growth.length ? growth[0].sizeBytesBefore : p.sizeBytes || 0]];
  growth.forEach((g) => steps.push([Date.parse(g.grownAt), g.sizeBytesAfter]));
  const max = Math.max(1, ...steps.map((s) => s[1]));
  const y = (b) => (base - (b / max) * (base - top)).toFixed(1);
  let d = `M${x(steps[0][0])},${base}`;
  steps.forEach(([t, b], i) => { if (i > 0) d += ` L${x(t)},${y(steps[i - 1][1])}`; d += ` L${x(t)},${y(b)}`; });
  d += ` L${x(t1)},${y(steps[steps.length - 1][1])} L${x(t1)},${base} Z`;
  const dots = generations.map((g) => {
    const t = Date.parse(g.finishedAt || g.startedAt || p.updatedAt);
    const cls = g.state === "completed" ? "ok" : g.state === "failed" ? "failed" : "running";
    return `<circle class="${cls}" cx="${x(t)}" cy="55" r="4"><title>generation ${esc(g.generation)} ${esc(g.state)}` +
      `${g.reason ? ": " + esc(g.reason) : ""}</title></circle>`;
  }).join("");
  const since = new Date(t0).toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" ` +
    `aria-label="size and backups of ${esc(p.name || p.poolId)}">` +
    `<path class="size" d="${d}"><title>size: ${steps.map((s) => size(s[1])).join(" → ")}</title></path>` +
    `<text x="6" y="9">size since ${esc(since)}${growth.length ? ", grown " + growth.length + "×" : ""}</text>` +
    `<text x="${W - 6}" y="9" text-anchor="end">${esc(size(max))}</text>` +
    `<line class="axis" x1="6" x2="${W - 6}" y1="${base}" y2="${base}"></line>` +
    (generations.length ? dots : `<text x="6" y="58">no backup yet</text>`) + `</svg>`;
}

// The chunks of the pools on this page (from their details), at most CELLS_PER_POOL cells each.
function renderChunks(pools) {
  const now = Date.now();
  $("#chunks").replaceChildren(...pools.filter((p) => details.has(p.poolId)).map((p) => {
    const cs = details.get(p.poolId).detail.chunks;
    const group = el("div", { class: "group", "data-pool": p.poolId }, el("span", { class: "label" }, `${p.name || p.poolId} (${cs.length})`),
      el("div", { class: "cells" }, ...cs.slice(0, CELLS_PER_POOL).map((c) => {
        // A chunk's newest copy on a target (or, never copied, the chunk itself) is over a day old.
        const stale = c.state !== "destroyed" && now - Date.parse(c.lastSyncedAt || c.createdAt) > DAY_MS;
        return el("span", { class: `chunk ${c.state}${stale ? " stale" : ""}`, "data-chunk": c.chunkId,
          title: `${c.chunkId}: ${c.state}, ${size(c.sizeBytes)}, backed up ${ago(c.lastSyncedAt)}` });
      })));
    if (cs.length > CELLS_PER_POOL) group.append(el("span", { class: "more-cells" }, `and ${cs.length - CELLS_PER_POOL} more`));
    return group;
  }));
}

function legend() {
  $("#legend").replaceChildren(...["provisioned", "attached", "in-pool", "faulted", "destroyed"].map((s) =>
    el("span", {}, el("span", { class: "chunk " + s }), s)),
  el("span", {}, el("span", { class: "chunk in-pool stale" }), "not backed up for a day"));
}

// One refresh at a time and at most one a second; events that arrive meanwhile ask for one more.
let running = false, again = false, last = 0;
function refreshSoon() {
  if (running) { again = true; return; }
  running = true;
  setTimeout(() => {
    last = Date.now();
    refresh().catch(showError).finally(() => {
      running = false;
      if (again) { again = false; refreshSoon(); }
    });
  }, Math.max(300, last + MIN_REFRESH_MS - Date.now()));
}
function showError(e) {
  if (leaving.signal.aborted) return;
  $("#status").textContent = "error: " + e.message; $("#status").className = "status";
}

// The live feed: events are drawn once per frame, the newest FEED_SIZE of them, so a fleet that
// catalogs thousands a second does not rebuild the list thousands of times.
let arrived = [];
function drawFeed() {
  const feed = $("#feed");
  const fresh = arrived.slice(-FEED_SIZE).reverse().map((e) =>
    el("li", { class: "fresh", "data-type": e.type, "data-event": e.id, title: e.source },
      new Date(e.time).toLocaleTimeString() + " ", el("span", { class: "type" }, e.type.replace("io.szpool.", "")),
      ` ${e.poolId} ${e.hostId || ""}`));
  arrived = [];
  feed.prepend(...fresh);
  while (feed.children.length > FEED_SIZE) feed.lastChild.remove();
}

function follow() {
  const source = new EventSource("/api/events/stream");
  source.onopen = () => { $("#status").textContent = "live"; $("#status").className = "status live"; };
  source.onerror = () => { $("#status").textContent = "reconnecting…"; $("#status").className = "status"; };
  source.onmessage = (m) => {
    if (!arrived.length) requestAnimationFrame(drawFeed);
    arrived.push(JSON.parse(m.data));
    // A hidden page gets no frames; what it would not draw anyway is dropped.
    if (arrived.length > 2 * FEED_SIZE) arrived = arrived.slice(-FEED_SIZE);
    refreshSoon();
  };
  return source;
}

function turn(by) {
  page = Math.min(pageCount - 1, Math.max(0, page + by));
  refresh().catch(showError);
}

legend();
$("#prev").onclick = () => turn(-1);
$("#next").onclick = () => turn(1);
refresh().then(() => { window.szpoolFirstRender = performance.now(); }).catch(showError);
const stream = follow();
window.addEventListener("pagehide", () => { leaving.abort(); stream.close(); });

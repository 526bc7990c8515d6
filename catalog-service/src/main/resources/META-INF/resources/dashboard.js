// The fleet dashboard: reads the catalog's API and follows its SSE stream, no reload needed.
"use strict";
const DAY_MS = 24 * 3600 * 1000;
const SILENT_MS = 15 * 60 * 1000;
const CAPACITY_ALERT = 80; // percent, as pool-service's default capacity alert
const CHARTED_POOLS = 12; // each charted pool costs two requests per refresh
const MAX_CHUNKS = 3000;
const MAX_ALERTS = 24;
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

async function json(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

const details = new Map(); // poolId -> {detail, generations, updatedAt}

async function refresh() {
  const [hosts, pools, chunks] = await Promise.all([
    json("/api/hosts"), json("/api/pools"), json("/api/chunks?limit=" + MAX_CHUNKS),
  ]);
  // Pools that need attention first, then the fullest.
  const rank = (p) => (alerting(p) ? 1000 : 0) + (p.usedPercent || 0);
  pools.sort((a, b) => rank(b) - rank(a) || a.poolId.localeCompare(b.poolId));
  const live = pools.filter((p) => p.state !== "destroyed");
  await Promise.all(live.slice(0, CHARTED_POOLS).map(loadDetail));
  renderSummary(hosts, live, chunks);
  renderAlerts(hosts, live, chunks);
  renderHosts(hosts);
  renderPools(live);
  renderChunks(chunks);
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

function renderSummary(hosts, pools, chunks) {
  const total = pools.reduce((s, p) => s + (p.sizeBytes || 0), 0);
  const used = pools.reduce((s, p) => s + (p.allocatedBytes || 0), 0);
  $("#summary").textContent = `${hosts.length} hosts · ${pools.length} pools · ` +
    `${chunks.length}${chunks.length >= MAX_CHUNKS ? "+" : ""} chunks · ${size(used)} of ${size(total)} allocated`;
}

function renderAlerts(hosts, pools, chunks) {
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
  const faulted = chunks.filter((c) => c.state === "faulted");
  if (faulted.length) {
    items.push(el("li", { class: "bad", "data-alert": "faulted" },
      `${faulted.length} faulted chunk${faulted.length > 1 ? "s" : ""}: ${faulted.slice(0, 4).map((c) => c.chunkId).join(", ")}`));
  }
  for (const h of hosts) {
    if (now - Date.parse(h.lastSeen) > SILENT_MS) {
      items.push(el("li", { "data-alert": "silent", "data-host": h.hostId }, `host ${h.hostId} silent since ${ago(h.lastSeen)}`));
    }
  }
  // A whole fleet in trouble would bury the page; the first ones and a count are enough here.
  const shown = items.slice(0, MAX_ALERTS);
  if (items.length > MAX_ALERTS) shown.push(el("li", { class: "more" }, `and ${items.length - MAX_ALERTS} more`));
  $("#alerts").replaceChildren(...(items.length ? shown : [el("li", { class: "none" }, "none")]));
}

function renderHosts(hosts) {
  const now = Date.now();
  $("#hosts tbody").replaceChildren(...hosts.map((h) =>
    el("tr", { "data-host": h.hostId, class: now - Date.parse(h.lastSeen) > SILENT_MS ? "silent" : "" },
      el("td", {}, h.hostId), el("td", { title: h.lastSeen }, ago(h.lastSeen)),
      el("td", {}, h.services.map((s) => s.service.replace("-service", "")).join(", ")))));
}

function renderPools(pools) {
  $("#pools").replaceChildren(...pools.slice(0, CHARTED_POOLS).map((p) => {
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
  const rest = pools.length - CHARTED_POOLS;
  if (rest > 0) $("#pools").append(el("div", { id: "more" }, `and ${rest} more pools (see /api/pools)`));
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

function renderChunks(chunks) {
  const now = Date.now();
  const byPool = new Map();
  chunks.forEach((c) => { if (!byPool.has(c.poolId)) byPool.set(c.poolId, []); byPool.get(c.poolId).push(c); });
  $("#chunks").replaceChildren(...[...byPool.entries()].map(([pool, cs]) =>
    el("div", { class: "group", "data-pool": pool }, el("span", { class: "label" }, `${pool} (${cs.length})`),
      el("div", { class: "cells" }, ...cs.map((c) => {
        // A chunk's newest copy on a target (or, never copied, the chunk itself) is over a day old.
        const stale = c.state !== "destroyed" && now - Date.parse(c.lastSyncedAt || c.createdAt) > DAY_MS;
        return el("span", { class: `chunk ${c.state}${stale ? " stale" : ""}`, "data-chunk": c.chunkId,
          title: `${c.chunkId}: ${c.state}, ${size(c.sizeBytes)}, backed up ${ago(c.lastSyncedAt)}` });
      })))));
}

function legend() {
  $("#legend").replaceChildren(...["provisioned", "attached", "in-pool", "faulted", "destroyed"].map((s) =>
    el("span", {}, el("span", { class: "chunk " + s }), s)),
  el("span", {}, el("span", { class: "chunk in-pool stale" }), "not backed up for a day"));
}

let pending = null;
function refreshSoon() {
  if (!pending) pending = setTimeout(() => { pending = null; refresh().catch(showError); }, 300);
}
function showError(e) { $("#status").textContent = "error: " + e.message; $("#status").className = "status"; }

function follow() {
  const source = new EventSource("/api/events/stream");
  source.onopen = () => { $("#status").textContent = "live"; $("#status").className = "status live"; };
  source.onerror = () => { $("#status").textContent = "reconnecting…"; $("#status").className = "status"; };
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    const feed = $("#feed");
    feed.prepend(el("li", { class: "fresh", "data-type": e.type, "data-event": e.id, title: e.source },
      new Date(e.time).toLocaleTimeString() + " ", el("span", { class: "type" }, e.type.replace("io.szpool.", "")),
      ` ${e.poolId} ${e.hostId || ""}`));
    while (feed.children.length > 200) feed.lastChild.remove();
    refreshSoon();
  };
}

legend();
refresh().then(() => { window.szpoolFirstRender = performance.now(); }).catch(showError);
follow();

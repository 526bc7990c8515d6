// The fleet dashboard: reads the catalog's API and follows its SSE stream, no reload needed.
"use strict";
const STALE_MS = 24 * 3600 * 1000;
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => (k === "class" ? (e.className = v) : e.setAttribute(k, v)));
  children.forEach((c) => e.append(c));
  return e;
};
const gib = (b) => (b == null ? "?" : (b / 2 ** 30).toFixed(1) + " GiB");

async function json(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

async function refresh() {
  const [hosts, pools, chunks] = await Promise.all([
    json("/api/hosts"), json("/api/pools"), json("/api/chunks?limit=10000"),
  ]);
  const tbody = $("#hosts tbody");
  tbody.replaceChildren(...hosts.map((h) =>
    el("tr", {}, el("td", {}, h.hostId), el("td", {}, new Date(h.lastSeen).toLocaleString()),
      el("td", {}, h.services.map((s) => s.service).join(", ")))));
  $("#pools").replaceChildren(...pools.map((p) => {
    const used = p.usedPercent == null ? 0 : p.usedPercent;
    return el("div", { class: "pool", "data-pool": p.poolId },
      el("div", {}, el("b", {}, p.name || p.poolId), " on ", p.hostId || "?", " ",
        el("span", { class: "health " + (p.health || "") }, p.health || "unknown"), " ",
        gib(p.allocatedBytes), " / ", gib(p.sizeBytes),
        p.lastSyncedGeneration != null ? ` · synced gen ${p.lastSyncedGeneration}` : " · never synced"),
      el("div", { class: "bar" }, el("div", { class: used >= 80 ? "high" : "", style: `width:${used}%` })));
  }));
  const now = Date.now();
  $("#chunks").replaceChildren(...chunks.map((c) => {
    const stale = c.state !== "destroyed" && (!c.lastSyncedAt || now - Date.parse(c.lastSyncedAt) > STALE_MS);
    return el("div", { class: `chunk ${c.state}${stale ? " stale" : ""}`, "data-chunk": c.chunkId,
      title: `${c.chunkId} (${c.poolId}) ${c.state}${stale ? ", not synced for a day" : ""}` });
  }));
}

function legend() {
  $("#legend").replaceChildren(...["provisioned", "attached", "in-pool", "faulted", "destroyed"].map((s) =>
    el("span", {}, el("span", { class: "chunk " + s }), s)));
}

let pending = null;
function refreshSoon() {
  if (!pending) pending = setTimeout(() => { pending = null; refresh().catch(showError); }, 300);
}
function showError(e) { $("#status").textContent = "error: " + e.message; }

function follow() {
  const source = new EventSource("/api/events/stream");
  source.onopen = () => ($("#status").textContent = "live");
  source.onerror = () => ($("#status").textContent = "reconnecting…");
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    const feed = $("#feed");
    feed.prepend(el("li", { "data-type": e.type },
      `${new Date(e.time).toLocaleTimeString()} ${e.type.replace("io.szpool.", "")} ${e.poolId} ${e.hostId || ""}`));
    while (feed.children.length > 200) feed.lastChild.remove();
    refreshSoon();
  };
}

legend();
refresh().catch(showError);
follow();

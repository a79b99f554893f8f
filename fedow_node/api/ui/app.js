// fedow-node dashboard: a small static page over the node's own API (docs/api.md, "The dashboard").
// No framework and no external file. Every figure is an API answer; elements that show one carry
// data-figure="..." so the browser test can compare them with the API. Text always goes through
// textContent (never innerHTML): card data cannot inject markup.
"use strict";

const TOKEN_KEY = "fedow-token";
const PAGES = {};
const state = { role: null, status: null };

// ---- small DOM and format helpers -------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
const KINDS = { cash_refill: "cash refill", fed_refill: "online refill", register_cards: "cards", void_card: "void",
  qr_sale: "QR sale", bank_deposit: "bank deposit", lost_card: "lost card", link_card: "card link",
  set_primary_card: "primary card", fed_refund: "card refund", offline_sale: "sale (offline)",
  offline_cash_refill: "cash refill (offline)", offline_badge: "badge (offline)", offline_bond: "offline bond",
  offline_unbond: "offline bond notice" };
const kindName = (kind) => KINDS[kind] || kind.replace(/_/g, " ");
const money = (cents) => (cents / 100).toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const short = (hex) => (hex && hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex || "");
const when = (ms) => (ms === null || ms === undefined ? "–" : new Date(ms).toLocaleString("sv-SE"));  // 2026-07-14 21:03:07
function table(headers, rows, empty) {
  if (!rows.length) return h("p", { class: "muted" }, empty || "Nothing yet.");
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map(([label, cls]) => h("th", { class: cls }, label)))),
    h("tbody", {}, rows));
}
function num(value, figure, formatted) {
  return h("td", { class: "num", "data-figure": figure, "data-value": value }, formatted === undefined ? value : formatted);
}
function tile(label, value, figure) {
  return h("div", { class: "tile" }, h("div", { class: "label" }, label),
    h("div", { class: "value", "data-figure": figure }, value));
}
const panel = (title, ...content) => h("section", { class: "panel" }, title ? h("h2", {}, title) : null, ...content);

// ---- the API -----------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, code, detail) { super(`${code}: ${detail}`); this.status = status; this.code = code; this.detail = detail; }
}
const token = () => sessionStorage.getItem(TOKEN_KEY);
async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method: options.method || "GET", headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch (_) { data = { error: "not_json", detail: text.slice(0, 200) }; }
  if (!response.ok) throw new ApiError(response.status, data.error || "error", data.detail || response.statusText);
  return data;
}
const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
};

// ---- session -----------------------------------------------------------------------------------
async function detectRole() {
  state.role = null;
  if (!token()) return;
  try { await api("/v1/admin/tokens"); state.role = "operator"; return; } catch (err) {
    if (err.status === 401) { sessionStorage.removeItem(TOKEN_KEY); return; }
  }
  try { await api("/v1/totals"); state.role = "reader"; } catch (err) {
    if (err.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  }
}
function sessionButton() {
  const button = document.getElementById("session");
  button.textContent = state.role ? `Sign out (${state.role})` : "Sign in";
  button.onclick = () => {
    if (state.role) { sessionStorage.removeItem(TOKEN_KEY); state.role = null; }
    location.hash = state.role ? "#/health" : `#/login?next=${encodeURIComponent(currentPage())}`;
    route();
  };
}
function loginPage(reason, next) {
  const input = h("input", { type: "password", name: "token", autocomplete: "current-password",
    placeholder: "fdw_…", required: true, id: "token-input" });
  const problem = h("div", { class: "error", hidden: !reason, id: "login-reason" }, reason || "");
  const form = h("form", { id: "login-form", onsubmit: async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    await detectRole();
    if (!state.role) { problem.hidden = false; problem.textContent = "This token is unknown or revoked."; return; }
    location.hash = `#/${next || "sales"}`;
  } }, h("label", {}, "Operator (or read-only) token", input), h("button", { type: "submit" }, "Sign in"));
  return h("div", { class: "login panel", id: "login" }, h("h1", {}, "Sign in"), problem, form,
    h("p", { class: "muted" }, "Make one on the node: fedow-node api-token create --home DIR --role operator. ",
      "The token stays in this tab only."));
}
function needsLogin(page) { return loginPage("This page shows card holders' and the venue's figures: sign in with a token.", page); }

// ---- pages -------------------------------------------------------------------------------------
PAGES.health = async () => {
  const [status, validators, fedAsset] = await Promise.all([api("/v1/status"), api("/v1/validators"),
    api("/v1/assets").then((list) => list.assets.find((a) => a.category === "FED"))]);
  const rewards = fedAsset && fedAsset.pools ? fedAsset.pools.validators : null;
  state.status = status;
  const node = status.node || {};
  const inConsensus = node.round !== null && node.round !== undefined;
  const tiles = h("div", { class: "tiles" },
    tile("Chain", status.chain_id, "chain_id"), tile("Height", status.height, "height"),
    tile("Last block", when(status.time_ms), "block_time"), tile("Peers", node.peers ?? "–", "peers"),
    tile("Mempool", node.mempool_txs ?? "–", "mempool"), tile("Place", status.place || "none", "place"),
    tile("Consensus", node.validator ? (inConsensus ? `validating (round ${node.round})` : "syncing") : "full node", "sync"),
    tile("Network", offlineState(status.offline), "offline"),
    tile("Stripe", node.stripe || "–", "stripe"));
  const rows = validators.validators.map((v) => h("tr", {},
    h("td", {}, v.place), h("td", { class: "mono hide-narrow" }, short(v.public_key)),
    num(v.stake, `validator:${v.place}:stake`, money(v.stake)), num(v.power, `validator:${v.place}:power`),
    h("td", {}, v.jailed ? h("span", { class: "bad" }, "jailed") : v.active ? h("span", { class: "good" }, "active") : "removed")));
  const fed = validators.fed_backing || {};  // attested_minted, attested_burnt
  const keySets = Object.entries(status.key_sets || {}).map(([name, set]) => h("tr", {}, h("td", {}, name),
    h("td", { class: "num", "data-figure": `keyset:${name}:threshold`, "data-value": set.threshold }, `${set.threshold} of ${set.keys.length}`)));
  const parts = [h("h1", {}, "Node health"), tiles, h("div", { class: "grid" },
    h("section", { class: "panel wide" }, h("h2", {}, "Validators"),
      table([["Place"], ["Key", "hide-narrow"], ["Stake", "num"], ["Power", "num"], ["State"]], rows),
      h("p", { class: "muted" }, `Total stake ${money(validators.total_stake)} FED, power ${validators.total_power}.`,
        rewards === null ? "" : ` Rewards waiting for the validators: `,
        rewards === null ? "" : h("span", { "data-figure": "rewards:validators", "data-value": rewards }, `${money(rewards)} FED`))),
    panel("Federated euro (FED)", table([["", ""], ["FED", "num"]], Object.entries(fed).map(([name, value]) =>
      h("tr", {}, h("td", {}, name), num(value, `fed:${name}`, money(value)))))),
    panel("Key sets (co-signatures needed)", table([["Set"], ["Threshold", "num"]], keySets, "No key set.")),
    offlinePanel(status.offline))];
  if (state.role && status.offline && status.offline.enabled) {
    try {
      const refused = (await api("/v1/offline/journal?state=refused&limit=20")).entries;
      parts.push(h("div", { class: "grid" }, panel("Offline operations the ledger refused (settle them with the customer)",
        table([["No.", "num"], ["Till"], ["Operation"], ["Wallet", "hide-narrow"], ["Amount", "num"], ["Why"]],
          refused.map((e) => h("tr", {}, num(e.seq, `refused:${e.seq}:seq`), h("td", {}, e.till),
            h("td", {}, kindName(e.op)), h("td", { class: "mono hide-narrow" }, short(e.wallet)),
            num(e.amount, `refused:${e.seq}:amount`, money(e.amount)), h("td", {}, `${e.code}: ${e.detail}`))),
          "None: every offline operation forwarded so far is on chain."))));
    } catch (_) { /* a read-only token may see the journal too; nothing to show otherwise */ }
  }
  if (state.role) {
    try {
      const reader = await api("/v1/reader/status");
      parts.push(h("div", { class: "grid" }, panel("Card reader", h("p", {}, h("span", { class: "badge" }, reader.state), " ", reader.detail),
        table([["Reader"], ["Card"]], reader.readers.map((r) => h("tr", {}, h("td", {}, r.name), h("td", { class: "mono" }, r.card || "–"))),
          "No reader attached."))));
    } catch (_) { /* the reader panel is optional */ }
  }
  return parts;
};

function offlineState(offline) {
  if (!offline) return "–";
  if (offline.state === "online") return "online";
  return `cut off (${offline.reason === "stalled" ? "chain stalled" : "too few validators"})${offline.selling ? ", selling offline" : ""}`;
}

function offlinePanel(offline) {
  if (!offline) return null;
  const since = h("p", { class: offline.state === "online" ? "muted" : "bad" },
    offline.state === "online" ? `Online since ${when(offline.since_ms)}.`
      : `Cut off from the network since ${when(offline.since_ms)}: ${offline.selling ? "the tills sell offline within the limits below."
        : "offline sales are not enabled ([offline] enabled), sales wait for the network."}`);
  if (!offline.enabled) return panel("Offline sales", since, h("p", { class: "muted" }, "Not in use on this node (docs/offline.md)."));
  const row = (label, value, figure, formatted) => h("tr", {}, h("td", {}, label), num(value, `offline:${figure}`, formatted));
  return panel("Offline sales", since, table([["", ""], ["", "num"]], [
    row("Waiting to reach the chain", offline.pending, "pending"),
    row("Exposure (FED sold offline, not on chain yet)", offline.exposure, "exposure", money(offline.exposure)),
    row("Exposure cap (smaller of the limit and the bond)", offline.exposure_cap, "exposure_cap", money(offline.exposure_cap)),
    row("Bond locked", offline.bond.locked, "bond_locked", money(offline.bond.locked)),
    row("Bond under notice", offline.bond.unbonding, "bond_unbonding", money(offline.bond.unbonding)),
    row("Forwarded and on chain", offline.committed, "committed"),
    row("Refused by the ledger", offline.refused, "refused"),
    row("Limit per sale", offline.limits.max_sale, "max_sale", money(offline.limits.max_sale)),
    row("Limit per card", offline.limits.max_per_card, "max_per_card", money(offline.limits.max_per_card))]),
    offline.bond.unbonding ? h("p", { class: "muted" }, `Notice given: back to the float on ${when(offline.bond.release_ms)}.`) : null);
}

function chart(hours) {
  const byHour = new Map();
  for (const row of hours) {
    const entry = byHour.get(row.hour_ms) || { hour: row.hour, sale: 0, refill: 0 };
    if (row.kind === "sale" || row.kind === "qr_sale" || row.kind === "offline_sale") entry.sale += row.amount;
    if (row.kind === "cash_refill" || row.kind === "fed_refill" || row.kind === "offline_cash_refill") entry.refill += row.amount;
    byHour.set(row.hour_ms, entry);
  }
  const entries = [...byHour.entries()].sort((a, b) => a[0] - b[0]);
  if (!entries.length) return h("p", { class: "muted" }, "No sale or refill this day.");
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const width = Math.max(320, entries.length * 48), height = 190, top = 14, bottom = 30;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "sales and refills per hour");
  const max = Math.max(1, ...entries.map(([, e]) => Math.max(e.sale, e.refill)));
  const slot = width / entries.length;
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
  };
  entries.forEach(([hourMs, e], i) => {
    const barWidth = Math.min(18, slot / 2.6);
    for (const [kind, offset] of [["sale", -barWidth], ["refill", 0]]) {
      const value = e[kind];
      const barHeight = ((height - top - bottom) * value) / max;
      add("rect", { class: kind, x: i * slot + slot / 2 + offset, y: height - bottom - barHeight, width: barWidth,
        height: barHeight, rx: 2, "data-figure": `hour:${hourMs}:${kind}`, "data-value": value });
    }
    add("text", { x: i * slot + slot / 2, y: height - 12, "text-anchor": "middle" }, e.hour.slice(11, 16));
  });
  return h("div", {}, svg, h("div", { class: "legend" }, h("span", {}, h("i", { class: "sale" }), "sales"),
    h("span", {}, h("i", { class: "refill" }), "refills")));
}

PAGES.sales = async (params) => {
  if (!state.role) return needsLogin("sales");
  const totals = await api(`/v1/totals${query({ date: params.get("date"), tz: params.get("tz"), place: params.get("place") })}`);
  let labels = {};
  if (state.role === "operator") {
    const tokens = await api("/v1/admin/tokens");
    labels = Object.fromEntries(tokens.tokens.map((t) => [t.id, t.label || t.id]));
  }
  const dateInput = h("input", { type: "date", name: "date", value: totals.from, id: "sales-date" });
  const form = h("form", { class: "inline", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/sales${query({ date: dateInput.value, tz: params.get("tz") })}`;
  } }, h("label", {}, "Day", dateInput), h("button", { type: "submit" }, "Show"),
    h("span", { class: "muted" }, `days in ${totals.tz}`));
  const sum = (kinds, asset) => totals.rows.filter((r) => kinds.includes(r.kind) && r.asset === asset)
    .reduce((total, r) => total + r.amount, 0);
  const assets = [...new Set(totals.rows.map((r) => r.asset).filter(Boolean))].sort();
  const tiles = h("div", { class: "tiles" }, assets.flatMap((asset) => [
    tile(`${asset} sales`, money(sum(["sale", "qr_sale"], asset)), `tile:${asset}:sales`),
    tile(`${asset} refills`, money(sum(["cash_refill", "fed_refill"], asset)), `tile:${asset}:refills`),
    tile(`${asset} refunds`, money(sum(["refund", "void_card"], asset)), `tile:${asset}:refunds`)]));
  const rows = totals.rows.map((r) => h("tr", {}, h("td", {}, r.place), h("td", {}, kindName(r.kind)), h("td", {}, r.asset || "–"),
    num(r.count, `row:${r.place}:${r.asset}:${r.kind}:count`),
    num(r.amount, `row:${r.place}:${r.asset}:${r.kind}:amount`, money(r.amount))));
  const tills = totals.tills.filter((t) => t.till).map((t) => h("tr", {}, h("td", {}, labels[t.till] || t.till),
    h("td", {}, kindName(t.kind)), h("td", {}, t.asset || "–"), num(t.count, `till:${t.till}:${t.asset}:${t.kind}:count`),
    num(t.amount, `till:${t.till}:${t.asset}:${t.kind}:amount`, money(t.amount))));
  const csv = h("button", { class: "secondary", type: "button", onclick: async () => {
    const response = await fetch(`/v1/totals.csv${query({ date: totals.from, tz: totals.tz })}`,
      { headers: { Authorization: `Bearer ${token()}` } });
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `totals-${totals.from}.csv` });
    link.click();
  } }, "Download CSV");
  return [h("h1", {}, `Sales and refills · ${totals.from}`), form, tiles, h("div", { class: "grid" },
    h("section", { class: "panel wide" }, h("h2", {}, "Per hour"), chart(totals.hours)),
    panel("Per place, asset and kind", table([["Place"], ["Kind"], ["Asset"], ["Count", "num"], ["Amount", "num"]], rows,
      "No transaction this day."), h("p", {}, csv)),
    panel("Per till (tokens of this node)", table([["Till"], ["Kind"], ["Asset"], ["Count", "num"], ["Amount", "num"]], tills,
      "No till of this node signed anything this day.")))];
};

function cardPath(text) {
  const value = text.trim();
  if (/^fedow1[a-z2-7]{58}$/.test(value) || /^[0-9a-f]{64}$/i.test(value)) return { wallet: value };
  if (/^([0-9a-f]{8}|[0-9a-f]{14})$/i.test(value)) return { path: `/v1/cards/${value.toLowerCase()}` };
  if (/^[0-9A-Za-z]{8}$/.test(value)) return { path: `/v1/cards/by-number/${value.toUpperCase()}` };
  const qr = value.replace(/^.*[/=]/, "");
  if (/^[0-9a-f-]{32,36}$/i.test(qr)) return { path: `/v1/cards/by-qr/${qr}` };
  return null;
}

async function walletView(wallet, card) {
  const history = await api(`/v1/wallets/${wallet.wallet}/history?limit=20`);
  const balances = wallet.balances.map((b) => h("tr", {}, h("td", {}, b.asset), num(b.amount, `balance:${b.asset}`, money(b.amount)),
    h("td", { class: "num hide-narrow" }, b.amount_now !== b.amount ? money(b.amount_now) : "")));
  const memberships = wallet.memberships.map((m) => h("tr", {}, h("td", {}, m.asset),
    h("td", {}, m.active ? h("span", { class: "good" }, "active") : h("span", { class: "muted" }, "expired")), h("td", {}, when(m.expiry_ms))));
  const historyRows = history.entries.map((e) => h("tr", { "data-figure": `history:${e.txid}` },
    h("td", {}, when(e.time_ms)), h("td", {}, kindName(e.kind)), h("td", {}, e.place || "–"),
    h("td", { class: "num" }, e.body.amount !== undefined ? `${money(e.body.amount)} ${e.body.asset_id || ""}` : "")));
  const info = card ? h("p", {}, h("span", { class: "badge", "data-figure": "card:state" }, card.state), " card ",
    h("span", { class: "mono", "data-figure": "card:number" }, card.number), " · UID ", h("span", { class: "mono" }, card.uid),
    " · from ", card.origin_place, card.owner ? " · linked to a user" : "") : null;
  return [info, h("p", { class: "muted mono" }, wallet.address), h("div", { class: "grid" },
    panel("Balances", table([["Asset"], ["Amount", "num"], ["After demurrage", "num hide-narrow"]], balances, "No balance.")),
    panel("Memberships", table([["Asset"], ["State"], ["Until"]], memberships, "No membership.")),
    h("section", { class: "panel wide" }, h("h2", {}, "History (block times)"),
      table([["When"], ["Kind"], ["Place"], ["Amount", "num"]], historyRows, "No transaction.")))];
}

function watchReader(onTap, say) {
  const controller = new AbortController();
  (async () => {
    const response = await fetch("/v1/reader/events", { headers: { Authorization: `Bearer ${token()}` }, signal: controller.signal });
    if (!response.ok) { say("The node has no card reader (or it is off)."); return; }
    say("Waiting for a card on the node's reader…");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const name = (block.match(/^event: (.*)$/m) || [])[1];
        const data = (block.match(/^data: (.*)$/m) || [])[1];
        if (name === "tap" && data) { controller.abort(); onTap(JSON.parse(data)); return; }
      }
    }
  })().catch((err) => { if (err.name !== "AbortError") say(`Reader: ${err.message}`); });
  return controller;
}

PAGES.cards = async (params) => {
  if (!state.role) return needsLogin("cards");
  const input = h("input", { name: "q", id: "card-query", value: params.get("q") || "", placeholder: "UID, printed number, QR or wallet",
    autocomplete: "off" });
  const note = h("span", { class: "muted", id: "reader-note" });
  const form = h("form", { class: "inline", onsubmit: (event) => { event.preventDefault(); location.hash = `#/cards${query({ q: input.value.trim() })}`; } },
    h("label", {}, "Card or wallet", input), h("button", { type: "submit", id: "card-lookup" }, "Look up"),
    h("button", { type: "button", class: "secondary", onclick: () => {
      watchReader((tap) => { location.hash = `#/cards${query({ q: tap.uid })}`; }, (text) => { note.textContent = text; });
    } }, "Wait for a tap"), note);
  const parts = [h("h1", {}, "Card look-up"), form];
  const text = params.get("q");
  if (!text) return parts;
  const target = cardPath(text);
  if (!target) return [...parts, h("div", { class: "error" }, "Type a UID (8 or 14 hex), a printed number (8 characters), a QR id or a wallet address.")];
  try {
    if (target.wallet) return [...parts, ...(await walletView(await api(`/v1/wallets/${target.wallet}`), null))];
    const card = await api(target.path);
    return [...parts, ...(await walletView(card.paying_wallet, card))];
  } catch (err) {
    if (err.status === 404) return [...parts, h("div", { class: "error", id: "card-error" }, err.detail)];
    throw err;
  }
};

PAGES.explorer = async (params) => {
  const status = await api("/v1/status");
  const top = Math.min(Number(params.get("below") || status.height + 1) - 1, status.height);
  const heights = [];
  for (let height = top; height >= 1 && heights.length < 10; height -= 1) heights.push(height);
  const blocks = await Promise.all(heights.map((height) => api(`/v1/blocks/${height}`)));
  const blockRows = blocks.map((b) => h("tr", {}, num(b.height, `block:${b.height}`), h("td", {}, when(b.time_ms)),
    h("td", { class: "num" }, b.txids.length), h("td", { class: "mono hide-narrow" }, short(b.hash))));
  const older = heights.length && heights[heights.length - 1] > 1
    ? h("a", { href: `#/explorer${query({ below: heights[heights.length - 1], kind: params.get("kind") })}` }, "Older blocks →") : null;
  const parts = [h("h1", {}, "Explorer"), h("div", { class: "grid" },
    panel("Blocks", table([["Height", "num"], ["Time"], ["Txs", "num"], ["Hash", "hide-narrow"]], blockRows), older))];
  if (!state.role) {
    parts.push(panel("Transactions", h("p", { class: "muted" }, "Sign in to list transactions (they name cards and amounts).")));
    return parts;
  }
  const filters = { kind: params.get("kind"), asset: params.get("asset"), place: params.get("place"), cursor: params.get("cursor") };
  const page = await api(`/v1/txs${query({ ...filters, limit: 20 })}`);
  const kind = h("input", { name: "kind", value: filters.kind || "", placeholder: "sale,refund" });
  const asset = h("input", { name: "asset", value: filters.asset || "", placeholder: "FED" });
  const place = h("input", { name: "place", value: filters.place || "", placeholder: "place id" });
  const form = h("form", { class: "inline", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/explorer${query({ kind: kind.value, asset: asset.value, place: place.value })}`;
  } }, h("label", {}, "Kind", kind), h("label", {}, "Asset", asset), h("label", {}, "Place", place), h("button", { type: "submit" }, "Filter"));
  const rows = page.entries.map((e) => h("tr", { "data-figure": `tx:${e.txid}` }, h("td", {}, when(e.time_ms)), h("td", {}, kindName(e.kind)), h("td", {}, e.place || "–"),
    h("td", { class: "num" }, e.body.amount !== undefined ? money(e.body.amount) : ""), h("td", {}, e.body.asset_id || ""),
    h("td", { class: "mono hide-narrow" }, short(e.txid))));
  const next = page.next_cursor ? h("a", { href: `#/explorer${query({ ...filters, cursor: page.next_cursor })}` }, "Next page →") : null;
  parts.push(h("section", { class: "panel wide" }, h("h2", {}, "Transactions"), form,
    table([["When"], ["Kind"], ["Place"], ["Amount", "num"], ["Asset"], ["Txid", "hide-narrow"]], rows, "No transaction matches."), next));
  return parts;
};

PAGES.directory = async () => {
  const [assets, federations, places] = await Promise.all([api("/v1/assets"), api("/v1/federations"), api("/v1/places")]);
  const pool = (a, name) => (a.pools ? a.pools[name] : 0);
  const assetRows = assets.assets.map((a) => h("tr", {}, h("td", {}, a.id), h("td", { class: "hide-narrow" }, a.name),
    h("td", {}, a.category, a.melting ? " · melting" : ""),
    num(a.supply ? a.supply.held : 0, `asset:${a.id}:held`, money(a.supply ? a.supply.held : 0)),
    num(pool(a, "common"), `asset:${a.id}:pool:common`, money(pool(a, "common"))),
    num(pool(a, "validators"), `asset:${a.id}:pool:validators`, money(pool(a, "validators")))));
  const parts = [h("h1", {}, "Directory"), h("div", { class: "grid" },
    h("section", { class: "panel wide" }, h("h2", {}, "Assets, supply and demurrage pools"),
      table([["Id"], ["Name", "hide-narrow"], ["Category"], ["Held", "num"], ["Common fund", "num"], ["Validators", "num"]], assetRows)),
    panel("Federations", table([["Id"], ["Places"], ["Assets"]], federations.federations.map((f) =>
      h("tr", {}, h("td", {}, f.name), h("td", {}, f.places.join(", ")), h("td", {}, f.assets.join(", ")))))),
    panel("Places", table([["Id"], ["Name"], ["State"]], places.places.map((p) =>
      h("tr", {}, h("td", {}, p.id), h("td", {}, p.name), h("td", {}, p.archived ? "archived" : "open"))))))];
  if (state.role) {
    const due = await api("/v1/demurrage/due?limit=20");
    parts.push(h("div", { class: "grid" }, h("section", { class: "panel wide" }, h("h2", {}, "Demurrage due soon"),
      table([["Due"], ["Wallet"], ["Asset"], ["Balance", "num"], ["After", "num"]], due.due.map((d) => h("tr", {},
        h("td", {}, when(d.due_ms)), h("td", { class: "mono" }, short(d.wallet)), h("td", {}, d.asset),
        num(d.amount, `due:${d.wallet}:${d.asset}`, money(d.amount)), h("td", { class: "num" }, money(d.amount_after)))),
        "No melting balance is due."))));
  }
  return parts;
};

PAGES.tokens = async () => {
  if (state.role !== "operator") return loginPage("Tokens and pairing need an operator token.", "tokens");
  const listed = await api("/v1/admin/tokens");
  const shown = h("div", { id: "pairing-result" });
  const role = h("select", { name: "role" }, h("option", { value: "pos" }, "till (pos)"), h("option", { value: "read" }, "read-only"));
  const label = h("input", { name: "label", placeholder: "till 3", maxlength: 64 });
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const made = await api("/v1/admin/pairing-codes", { method: "POST", body: { role: role.value, label: label.value } });
    shown.replaceChildren(h("p", {}, "Enter this code on the till (once, before ", when(made.expires_ms), "):"),
      h("div", { class: "code", "data-figure": "pairing-code" }, made.code));
  } }, h("label", {}, "Role", role), h("label", {}, "Label", label), h("button", { type: "submit" }, "New pairing code"));
  const rows = listed.tokens.map((t) => h("tr", {}, h("td", { class: "mono" }, t.id), h("td", {}, t.role), h("td", {}, t.label || "–"),
    h("td", {}, t.place || "–"), h("td", {}, t.current ? h("span", { class: "muted" }, "this session") : h("button", {
      type: "button", class: "danger", "data-revoke": t.id, onclick: async () => {
        if (!confirm(`Revoke token ${t.id} (${t.label || t.role})? It stops working at once.`)) return;
        await api(`/v1/admin/tokens/${t.id}`, { method: "DELETE" });
        route();
      } }, "Revoke"))));
  return [h("h1", {}, "Tokens and tills"), h("div", { class: "grid" },
    panel("Pair a till", h("p", { class: "muted" }, "The till sends the code to POST /v1/pairing and gets its own token."), form, shown),
    h("section", { class: "panel wide" }, h("h2", {}, "Tokens"), table([["Id"], ["Role"], ["Label"], ["Place"], [""]], rows)))];
};

// ---- router ------------------------------------------------------------------------------------
function currentPage() { return (location.hash.replace(/^#\/?/, "").split("?")[0]) || "health"; }
async function route() {
  const [name, search] = location.hash.replace(/^#\/?/, "").split("?");
  const page = name || "health";
  const params = new URLSearchParams(search || "");
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.page === page);
  sessionButton();
  const main = document.getElementById("main");
  try {
    const content = page === "login" ? loginPage(null, params.get("next")) : await (PAGES[page] || PAGES.health)(params);
    main.replaceChildren(...[content].flat().filter(Boolean));
    main.dataset.page = page;
  } catch (err) {
    if (err.status === 401) { sessionStorage.removeItem(TOKEN_KEY); state.role = null; sessionButton(); main.replaceChildren(needsLogin(page)); return; }
    main.replaceChildren(h("div", { class: "error" }, err.detail || err.message));
  }
}

async function start() {
  const hash = location.hash.match(/[#&]token=([^&]+)/);
  if (hash) {  // fedow-node demo prints a link that signs in once; the token leaves the address bar at once
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(hash[1]));
    history.replaceState(null, "", `${location.pathname}#/health`);
  }
  await detectRole();
  api("/v1/status").then((status) => {
    document.getElementById("node-name").textContent = `${status.place || "fedow-node"} · ${status.chain_id}`;
  }).catch(() => {});
  window.addEventListener("hashchange", route);
  await route();
}
start();

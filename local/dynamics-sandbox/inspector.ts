// The inspector page at the sandbox's root (http://127.0.0.1:54329/): the requests the webhook
// receiver got (headers, body, signature check, answer), the listings, the queued faults, with
// forms to queue a fault and to edit a listing. One static page; its script reads and drives the
// control API, and renders with textContent only (request bodies are untrusted input).

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem;
  border-bottom: 1px solid #d0d7de; vertical-align: top; } th { background: #f6f8fa; }
  pre { white-space: pre-wrap; word-break: break-all; background: #f6f8fa; padding: .5rem; margin: .25rem 0; }
  form { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; }
  label { display: flex; flex-direction: column; font-size: .8rem; }
  .ok { color: #1a7f37; } .bad { color: #cf222e; } .muted { color: #656d76; }
  #message { min-height: 1.4em; }
`;

// Plain ES2020, no template literals: this text is itself inside one.
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const control = (path, init) => fetch("/__control" + path, init).then(async (r) => {
  const body = await r.json();
  if (!r.ok) throw new Error((body.error && body.error.message) || ("HTTP " + r.status));
  return body;
});
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function say(text, bad) {
  $("message").textContent = text;
  $("message").className = bad ? "bad" : "ok";
}
function signatureText(s) {
  if (!s.checked) return ["not checked", "muted"];
  return s.verified ? ["verified (" + s.scheme + ")", "ok"] : ["failed: " + s.reason, "bad"];
}
function renderDeliveries(deliveries) {
  const body = $("deliveries").tBodies[0];
  body.replaceChildren();
  for (const d of deliveries.slice().reverse()) {
    const row = body.insertRow();
    row.dataset.sequence = String(d.sequence);
    cell(row, String(d.sequence));
    cell(row, d.receivedAt);
    const sig = signatureText(d.signature);
    cell(row, sig[0], sig[1] + " signature");
    cell(row, d.fault || "");
    cell(row, d.answer ? String(d.answer.status) : "pending", "answer");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "headers, body, answer";
    const headers = document.createElement("pre");
    headers.textContent = Object.entries(d.headers).map((h) => h[0] + ": " + h[1]).join("\\n");
    const request = document.createElement("pre");
    request.className = "request-body";
    request.textContent = d.body;
    const answer = document.createElement("pre");
    answer.textContent = d.answer ? d.answer.body || "(no body)" : "(not answered yet)";
    details.append(summary, headers, request, answer);
    cell(row, "").appendChild(details);
  }
}
function renderListings(listings) {
  const body = $("listings").tBodies[0];
  body.replaceChildren();
  for (const l of listings) {
    const row = body.insertRow();
    row.dataset.mentor = l.mentorId;
    cell(row, l.mentorId);
    cell(row, l.listing, "listing");
    cell(row, l.source || "event");
    cell(row, l.lastEventType || "");
    cell(row, l.updatedAt);
    cell(row, String(l.changes));
    const button = document.createElement("button");
    const next = l.listing === "listed" ? "unlisted" : "listed";
    button.textContent = l.listing === "listed" ? "Unlist" : "List";
    button.className = "toggle";
    button.addEventListener("click", () => setListing(l.mentorId, next));
    cell(row, "").appendChild(button);
  }
}
function renderFaults(queued) {
  const body = $("faults").tBodies[0];
  body.replaceChildren();
  for (const target of Object.keys(queued)) {
    for (const f of queued[target]) {
      const row = body.insertRow();
      cell(row, target);
      cell(row, f.kind, "kind");
      cell(row, String(f.count), "count");
      const rest = Object.assign({}, f);
      delete rest.kind;
      delete rest.count;
      cell(row, JSON.stringify(rest));
    }
  }
}
async function refresh() {
  try {
    const all = await Promise.all([
      control("/deliveries"), control("/listings"), control("/faults"), control("/counters"),
    ]);
    renderDeliveries(all[0].deliveries);
    renderListings(all[1].listings);
    renderFaults(all[2].queued);
    const c = all[3];
    $("counters").textContent = "requests " + c.requests + " · delivered " + c.delivered +
      " · duplicates " + c.duplicates + " · throttled " + c.throttled;
  } catch (err) {
    say("refresh failed: " + err.message, true);
  }
}
async function setListing(mentorId, listing) {
  try {
    await control("/listings/" + encodeURIComponent(mentorId), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ listing: listing }),
    });
    say("listing of " + mentorId + " set to " + listing);
  } catch (err) {
    say("could not edit the listing: " + err.message, true);
  }
  await refresh();
}
$("fault-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const kind = $("fault-kind").value;
  const fault = { kind: kind, count: Number($("fault-count").value) };
  if (kind === "status") fault.status = Number($("fault-status").value);
  try {
    await control("/faults", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fault),
    });
    say("queued " + kind + " x" + fault.count);
  } catch (err) {
    say("could not queue the fault: " + err.message, true);
  }
  await refresh();
});
$("listing-form").addEventListener("submit", (e) => {
  e.preventDefault();
  return setListing($("listing-mentor").value.trim(), $("listing-value").value);
});
$("refresh").addEventListener("click", refresh);
refresh();
setInterval(() => { if ($("auto").checked) refresh(); }, 2000);
`;

const FAULT_KINDS = ["status", "rate_limit", "hang", "reset", "reject_token", "silent_loss"];

export const INSPECTOR_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>HLF Dynamics sandbox · inspector</title>
<style>${STYLE}</style>
</head>
<body>
<h1>HLF Dynamics sandbox</h1>
<p class="muted">The local stand-in for HLF Dynamics. <span id="counters"></span></p>
<p><button id="refresh" type="button">Refresh</button>
<label style="display:inline"><input id="auto" type="checkbox" checked> auto-refresh</label></p>
<p id="message" role="status"></p>

<h2>Queue a fault</h2>
<form id="fault-form">
  <label>kind <select id="fault-kind">${
  FAULT_KINDS.map((k) => `<option>${k}</option>`).join("")
}</select></label>
  <label>status (kind status) <input id="fault-status" type="number" min="400" max="599" value="503"></label>
  <label>count <input id="fault-count" type="number" min="1" value="1"></label>
  <button id="fault-submit" type="submit">Queue fault</button>
</form>
<table id="faults"><thead><tr><th>queue</th><th>kind</th><th>left</th><th>details</th></tr></thead><tbody></tbody></table>

<h2>Listings</h2>
<form id="listing-form">
  <label>mentor id <input id="listing-mentor" size="40" required></label>
  <label>listing <select id="listing-value"><option>listed</option><option>unlisted</option></select></label>
  <button id="listing-submit" type="submit">Set listing</button>
</form>
<table id="listings"><thead><tr><th>mentor</th><th>listing</th><th>set by</th><th>last event</th><th>updated</th><th>changes</th><th></th></tr></thead><tbody></tbody></table>

<h2>Deliveries received (latest first)</h2>
<table id="deliveries"><thead><tr><th>#</th><th>received</th><th>signature</th><th>fault</th><th>answer</th><th></th></tr></thead><tbody></tbody></table>
<script>${SCRIPT}</script>
</body>
</html>
`;

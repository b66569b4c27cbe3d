// The web inbox of a school or the Department. Plain JS, no third-party code.
//
// Security (as the analytics dashboard; sign-in and token handling are shared/web/session.js,
// served as ./session.js): the token is kept in sessionStorage (this tab only,
// gone when it closes) and sent only as an Authorization header to this same origin. Data is
// always written with textContent / DOM nodes, never as HTML, and the page's
// Content-Security-Policy allows only these script files.
//
// The PDF is fetched with the token and shown from a blob: URL (an <object data> could not
// send the Authorization header). Every POST carries a fresh Idempotency-Key.
//
// Navigation state lives in the URL fragment (#view=incoming|outgoing, #doc=<id>), so Back,
// Forward and bookmarks work; a token may arrive there too (#token=...) and is removed at once.

import { Session, Unauthorised, readHash } from "./session.js";

const TOKEN_KEY = "eduhub.inbox.token";
const INBOX_LIMIT = 500;
const OUTGOING_LIMIT = 100;
const PROGRESS_FETCHES = 50; // outgoing documents whose per-recipient counts are fetched

const UNIT_ROLES = ["department", "commune", "school", "service"];
const STATUS_NAMES = {
  "01": "Đã đến", "02": "Từ chối tiếp nhận", "03": "Đã vào sổ", "04": "Đã phân công",
  "05": "Đang xử lý", "06": "Hoàn thành", "13": "Yêu cầu thu hồi", "15": "Đồng ý thu hồi",
  "16": "Từ chối thu hồi",
};
const STATE_NAMES = {
  draft: "Dự thảo", approved: "Đã duyệt", signed: "Đã ký", issued: "Đã ban hành",
  replaced: "Đã bị thay thế",
};
const URGENCY_NAMES = { khan: "Khẩn", thuong_khan: "Thượng khẩn", hoa_toc: "Hỏa tốc" };
const SECRECY_NAMES = { mat: "Mật", toi_mat: "Tối mật", tuyet_mat: "Tuyệt mật" };
const BUSINESS_NAMES = { 0: "Văn bản mới", 1: "Thu hồi", 2: "Cập nhật", 3: "Thay thế" };
const VERDICTS = {
  ok: ["Chữ ký hợp lệ", "ok"],
  flagged: ["Chữ ký không hợp lệ", "flagged"],
  unsigned: ["Không có chữ ký số", "unsigned"],
};

const $ = (id) => document.getElementById(id);
const numberFormat = new Intl.NumberFormat("vi-VN");
const dayFormat = new Intl.DateTimeFormat("vi-VN", {
  timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric",
});
const timeFormat = new Intl.DateTimeFormat("vi-VN", {
  timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric",
  hour: "2-digit", minute: "2-digit",
});

/** A calendar date "2030-06-30" as "30/06/2030" (no time zone involved). */
function day(iso) {
  if (!iso) return "–";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}/${m}/${y}`;
}
/** An instant as a Vietnamese date (UTC+7). */
function dayOf(iso) {
  return iso ? dayFormat.format(new Date(iso)) : "–";
}
function moment(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "–";
}
function text(value) {
  return value == null || value === "" ? "–" : String(value);
}

let pdfUrl = null;

// --------------------------------------------------------------------------- API

// Sign-in, token and authorised calls: shared/web/session.js (the same for every page).
const session = new Session(TOKEN_KEY, { onSignedIn: render, onSignedOut: dropPdf });
const api = (path, options) => session.api(path, options);
const fetchBlob = (path) => session.fetchBlob(path);

function problemText(result) {
  if (result.status === 403) return "Không có quyền với văn bản hoặc đơn vị này.";
  if (result.status === 404) return "Không tìm thấy văn bản.";
  const body = result.body ?? {};
  const fields = (body.errors ?? []).map((e) => `${e.field}: ${e.message ?? e.type}`).join("; ");
  const detail = fields || body.detail;
  return `Không thực hiện được (${result.status}${detail ? `: ${detail}` : ""}).`;
}

// --------------------------------------------------------------------------- DOM helpers

function node(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") element.className = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child == null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function table(target, caption, headers, rows, empty) {
  target.replaceChildren();
  target.append(node("caption", {}, caption));
  const head = node("tr");
  headers.forEach(([label, cls]) => head.append(node("th", { scope: "col", class: cls }, label)));
  target.append(node("thead", {}, head));
  const body = node("tbody");
  rows.forEach((row) => body.append(row));
  if (!rows.length) {
    body.append(node("tr", {}, node("td", { colspan: headers.length, class: "empty" }, empty)));
  }
  target.append(body);
}

function fillMeta(dl, pairs) {
  dl.replaceChildren();
  for (const [label, value, key] of pairs) {
    dl.append(node("dt", {}, label), node("dd", { "data-field": key }, value));
  }
}

function signatureBadge(verdict) {
  const known = VERDICTS[verdict];
  if (!known) return node("span", { class: "badge", "data-verdict": "none" }, "Chưa kiểm tra");
  return node("span", { class: `badge ${known[1]}`, "data-verdict": verdict }, known[0]);
}

function progressCell(counts) {
  if (!counts) return node("span", { class: "note" }, "–");
  const { total, received, done } = counts;
  const share = total ? Math.round((done / total) * 100) : 0;
  const filled = node("span");
  filled.style.width = `${share}%`; // CSSOM, not a style attribute: the policy allows it
  return node("div", { class: "progress", "data-done": done, "data-total": total },
    node("span", { class: "bar", role: "img", "aria-label": `${share}% hoàn thành` }, filled),
    `Đã nhận ${received}/${total} · Hoàn thành ${done}/${total}`);
}

// --------------------------------------------------------------------------- routing

let generation = 0;
let lastList = "incoming";

function setState(state) {
  $("app").dataset.state = state;
}

async function render() {
  const mine = ++generation;
  const params = readHash();
  const documentId = params.get("doc");
  const view = documentId ? "detail" : params.get("view") === "outgoing" ? "outgoing" : "incoming";
  if (view !== "detail") lastList = view;
  $("app").dataset.view = view;
  setState("loading");
  $("tab-incoming").setAttribute("aria-selected", String(lastList === "incoming"));
  $("tab-outgoing").setAttribute("aria-selected", String(lastList === "outgoing"));
  $("incoming").hidden = view !== "incoming";
  $("outgoing").hidden = view !== "outgoing";
  $("detail").hidden = view !== "detail";
  $("status").textContent = "Đang tải…";
  if (view !== "detail") dropPdf();
  try {
    if (view === "incoming") await renderIncoming(mine);
    else if (view === "outgoing") await renderOutgoing(mine);
    else await renderDetail(documentId, mine);
    if (mine !== generation) return;
    $("status").textContent = `Cập nhật lúc ${new Date().toLocaleTimeString("vi-VN")}`;
    setState("ready");
  } catch (error) {
    if (error instanceof Unauthorised) {
      session.showLogin("Mã truy cập hết hạn hoặc không hợp lệ. Xin đăng nhập lại.");
      return;
    }
    if (mine !== generation) return;
    $("status").textContent = `Lỗi: ${error.message}`;
    setState("error");
  }
}

// --------------------------------------------------------------------------- incoming

async function loadInbox() {
  const query = new URLSearchParams({ org_id: session.claims.org, limit: String(INBOX_LIMIT) });
  if ($("only-overdue").checked) query.set("overdue", "true");
  const result = await api(`inbox?${query}`);
  if (!result.ok) throw new Error(problemText(result));
  return result.body.items;
}

async function renderIncoming(mine) {
  const items = await loadInbox();
  if (mine !== generation) return;
  const rows = items.map((item) => {
    const deadline = node("td", { class: "deadline" }, day(item.deadline));
    if (item.overdue) deadline.append(" ", node("span", { class: "badge overdue" }, "Quá hạn"));
    const link = node("a", { href: `#doc=${encodeURIComponent(item.document_id)}` },
      text(item.summary));
    const status = node("span", { class: item.status === "06" ? "badge done" : "badge" },
      STATUS_NAMES[item.status] ?? item.status_label ?? item.status);
    const classes = [item.overdue ? "overdue" : "", item.read_at ? "" : "unread"].join(" ").trim();
    return node("tr", { "data-document": item.document_id, class: classes || null },
      node("td", { class: "arrival n" }, item.arrival_number == null ? "–" : String(item.arrival_number)),
      node("td", {}, dayOf(item.arrived_at)),
      node("td", { class: "sender" }, text(item.issuer_name ?? item.issuer_id)),
      node("td", { class: "notation" }, text(item.notation)),
      node("td", { class: "summary-cell" }, link,
        item.urgency ? node("span", { class: "badge overdue" }, URGENCY_NAMES[item.urgency]) : null),
      deadline,
      node("td", { class: "status" }, status),
      node("td", { class: "signature" }, signatureBadge(item.signature_verdict)));
  });
  const overdue = items.filter((i) => i.overdue).length;
  table($("incoming-table"),
    `${numberFormat.format(items.length)} văn bản đến` +
      (overdue ? `, ${numberFormat.format(overdue)} quá hạn` : ""),
    [["Số đến", "n"], ["Ngày đến"], ["Nơi gửi"], ["Số, ký hiệu"], ["Trích yếu"], ["Hạn xử lý"],
      ["Trạng thái"], ["Chữ ký số"]],
    rows, $("only-overdue").checked ? "Không có văn bản quá hạn." : "Chưa có văn bản đến.");
}

// --------------------------------------------------------------------------- outgoing

async function renderOutgoing(mine) {
  const query = new URLSearchParams({ org_id: session.claims.org, limit: String(OUTGOING_LIMIT) });
  const result = await api(`documents?${query}`);
  if (!result.ok) throw new Error(problemText(result));
  const documents = result.body.documents;
  const sent = documents.filter((d) => d.state === "issued" || d.state === "replaced");
  const progress = new Map(await Promise.all(sent.slice(0, PROGRESS_FETCHES).map(async (d) => {
    const counts = await api(`documents/${encodeURIComponent(d.id)}/recipients`);
    return [d.id, counts.ok ? counts.body : null];
  })));
  if (mine !== generation) return;
  const rows = documents.map((d) => node("tr", { "data-document": d.id },
    node("td", { class: "notation" }, text(d.notation)),
    node("td", {}, day(d.issued_on)),
    node("td", { class: "summary-cell" },
      node("a", { href: `#doc=${encodeURIComponent(d.id)}` }, text(d.summary))),
    node("td", {}, STATE_NAMES[d.state] ?? d.state),
    node("td", { class: "n" }, d.recipient_count == null ? "–" : String(d.recipient_count)),
    node("td", { class: "progress-cell" }, progressCell(progress.get(d.id)))));
  table($("outgoing-table"), `${numberFormat.format(documents.length)} văn bản đi`,
    [["Số, ký hiệu"], ["Ngày ban hành"], ["Trích yếu"], ["Trạng thái"], ["Nơi nhận", "n"],
      ["Tiến độ xử lý"]],
    rows, "Chưa có văn bản đi.");
}

// --------------------------------------------------------------------------- detail

function dropPdf() {
  if (pdfUrl) URL.revokeObjectURL(pdfUrl);
  pdfUrl = null;
  const view = $("pdf-view");
  if (view) {
    view.replaceChildren();
    delete view.dataset.bytes;
  }
}

async function showPdf(doc, mine) {
  dropPdf();
  $("pdf-status").textContent = "Đang tải tệp PDF…";
  const fetched = await fetchBlob(`documents/${encodeURIComponent(doc.id)}/pdf`);
  if (mine !== generation) return;
  if (!fetched.ok) {
    $("pdf-status").textContent = `Không tải được tệp PDF (${fetched.status}).`;
    return;
  }
  const blob = fetched.blob.type === "application/pdf" ? fetched.blob
    : new Blob([fetched.blob], { type: "application/pdf" });
  pdfUrl = URL.createObjectURL(blob);
  const filename = doc.main_pdf?.filename ?? "van-ban.pdf";
  const download = node("a", { href: pdfUrl, download: filename }, `Tải tệp ${filename}`);
  const object = node("object", { data: pdfUrl, type: "application/pdf", id: "pdf-object",
    "aria-label": `Văn bản ${doc.notation ?? ""}` },
  node("p", {}, "Trình duyệt không hiển thị được PDF. ", download.cloneNode(true)));
  $("pdf-view").replaceChildren(object);
  $("pdf-view").dataset.bytes = String(blob.size);
  $("pdf-status").replaceChildren(
    `${filename} · ${numberFormat.format(blob.size)} byte`,
    doc.main_pdf?.signed ? " · đã ký số · " : " · ", download);
}

function renderSignature(signature) {
  const badge = $("signature-badge");
  const fresh = signatureBadge(signature?.verdict);
  badge.className = fresh.className;
  badge.dataset.verdict = fresh.dataset.verdict;
  badge.textContent = fresh.textContent;
  const reason = signature ? (signature.reason_vi ?? signature.reason?.vi ?? "") : "";
  $("signature-reason").textContent = signature ? reason
    : "Chưa có kết quả kiểm tra chữ ký số cho văn bản này.";
  const list = signature?.signatures ?? [];
  const yes = (v) => (v == null ? "–" : v ? "Có" : "Không");
  const rows = list.map((s) => node("tr", {},
    node("td", {}, text(s.signer ?? s.signer_common_name)),
    node("td", {}, text(s.organisation ?? s.signer_organisation)),
    node("td", {}, moment(s.signed_at ?? s.signing_time)),
    node("td", {}, yes(s.intact)),
    node("td", {}, yes(s.trusted))));
  $("signature-table").hidden = !list.length;
  table($("signature-table"), "Các chữ ký trên văn bản",
    [["Người ký"], ["Tổ chức"], ["Thời điểm ký"], ["Nguyên vẹn"], ["Tin cậy"]], rows, "");
}

function renderMeta(doc) {
  const signer = [doc.signer?.competence, doc.signer?.position, doc.signer?.name]
    .filter(Boolean).join(" ");
  fillMeta($("detail-meta"), [
    ["Số, ký hiệu", text(doc.notation), "notation"],
    ["Loại văn bản", text(doc.doc_type_name ?? doc.doc_type), "doc_type"],
    ["Cơ quan ban hành", text(doc.issuer_name ?? doc.issuer_id), "issuer"],
    ["Ngày ban hành", day(doc.issued_on), "issued_on"],
    ["Người ký", text(signer), "signer"],
    ["Độ khẩn", doc.urgency ? URGENCY_NAMES[doc.urgency] : "Thường", "urgency"],
    ["Độ mật", doc.secrecy ? SECRECY_NAMES[doc.secrecy] : "Thường", "secrecy"],
    ["Hạn xử lý (nơi gửi)", day(doc.due_date), "due_date"],
    ["Nơi nhận", text((doc.recipient_labels ?? []).join("; ")), "recipients"],
    ["Tình trạng", `${STATE_NAMES[doc.state] ?? doc.state} · ` +
      `${BUSINESS_NAMES[doc.business_type] ?? ""}`, "state"],
  ]);
}

function renderFiles(doc) {
  const files = [doc.main_pdf, ...(doc.attachments ?? [])].filter(Boolean);
  $("file-list").replaceChildren(...files.map((f) => {
    const button = node("button", { type: "button", class: "secondary" }, "Tải về");
    button.addEventListener("click", async () => {
      const got = await fetchBlob(`documents/${encodeURIComponent(doc.id)}/files/${encodeURIComponent(f.id)}`);
      if (!got.ok) return;
      const url = URL.createObjectURL(got.blob);
      const a = node("a", { href: url, download: f.filename });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
    return node("li", {}, `${f.filename} (${numberFormat.format(f.size)} byte${f.role === "main" ? ", văn bản chính" : ""}) `, button);
  }));
}

const HANDLER_ACTIONS = {
  "01": ["do-register", "refuse-form"],
  "03": ["assign-form", "do-progress", "do-complete"],
  "04": ["do-progress", "do-complete"],
  "05": ["do-complete"],
  "13": ["do-recall-agree", "do-recall-refuse"],
  "16": ["do-progress", "do-complete"],
};
const UNIT_ONLY = new Set(["do-register", "refuse-form", "assign-form", "do-recall-agree",
  "do-recall-refuse"]);
const ALL_ACTIONS = ["do-register", "refuse-form", "assign-form", "do-progress", "do-complete",
  "do-recall-agree", "do-recall-refuse"];

async function renderHandling(doc, item, mine) {
  const history = await api(`documents/${encodeURIComponent(doc.id)}/history?` +
    new URLSearchParams({ org_id: session.claims.org }));
  if (mine !== generation) return;
  $("handling").hidden = false;
  $("handling").dataset.status = item.status;
  fillMeta($("handling-meta"), [
    ["Trạng thái", STATUS_NAMES[item.status] ?? item.status, "status"],
    ["Số đến", item.arrival_number == null ? "Chưa vào sổ" : String(item.arrival_number), "arrival_number"],
    ["Ngày đến", moment(item.arrived_at), "arrived_at"],
    ["Phòng, bộ phận xử lý", text(item.assigned_department), "assigned_department"],
    ["Người xử lý", text(item.assigned_person), "assigned_person"],
    ["Hạn xử lý", day(item.deadline) + (item.overdue ? " (quá hạn)" : ""), "deadline"],
  ]);
  const allowed = new Set((HANDLER_ACTIONS[item.status] ?? [])
    .filter((a) => UNIT_ROLES.includes(session.claims.role) || !UNIT_ONLY.has(a)));
  for (const id of ALL_ACTIONS) $(id).hidden = !allowed.has(id);
  $("history").replaceChildren(...(history.ok ? history.body.history : []).map((h) =>
    node("li", {}, node("b", {}, STATUS_NAMES[h.status] ?? h.status), ` · ${moment(h.at)}`,
      h.actor ? ` · ${h.actor}` : "", h.note ? ` · ${h.note}` : "")));
}

async function renderRecipients(doc, mine) {
  const result = await api(`documents/${encodeURIComponent(doc.id)}/recipients`);
  if (mine !== generation) return;
  $("recipients").hidden = false;
  if (!result.ok) {
    $("recipients-counts").textContent = problemText(result);
    return;
  }
  const r = result.body;
  $("recipients-counts").textContent = `Đã nhận ${r.received}/${r.total} · Đã đọc ${r.read}/${r.total}` +
    ` · Hoàn thành ${r.done}/${r.total}`;
  const rows = r.recipients.map((x) => node("tr", { "data-org": x.org_id, "data-status": x.status },
    node("td", { class: "recipient" }, text(x.name)),
    node("td", { class: "status" }, node("span", { class: x.status === "06" ? "badge done" : "badge" },
      STATUS_NAMES[x.status] ?? x.status_label ?? x.status)),
    node("td", { class: "n" }, x.arrival_number == null ? "–" : String(x.arrival_number)),
    node("td", {}, moment(x.read_at)),
    node("td", {}, text([x.assigned_department, x.assigned_person].filter(Boolean).join(" · "))),
    node("td", {}, day(x.deadline)),
    node("td", { class: "done-at" }, moment(x.done_at))));
  table($("recipients-table"), `${r.total} nơi nhận`,
    [["Đơn vị nhận"], ["Trạng thái"], ["Số đến", "n"], ["Đã đọc lúc"], ["Phân công"],
      ["Hạn xử lý"], ["Hoàn thành lúc"]], rows, "Văn bản chưa được gửi đi.");
}

let current = null; // {doc, item} of the open document

async function findInboxItem(documentId) {
  const query = new URLSearchParams({ org_id: session.claims.org, limit: String(INBOX_LIMIT) });
  const result = await api(`inbox?${query}`);
  return result.ok ? result.body.items.find((i) => i.document_id === documentId) ?? null : null;
}

async function renderDetail(documentId, mine) {
  $("back").setAttribute("href", `#view=${lastList}`);
  $("action-error").textContent = "";
  const result = await api(`documents/${encodeURIComponent(documentId)}`);
  if (mine !== generation) return;
  if (!result.ok) {
    $("detail-title").textContent = problemText(result);
    $("detail-summary").textContent = "";
    for (const id of ["handling", "recipients"]) $(id).hidden = true;
    dropPdf();
    return;
  }
  const doc = result.body;
  const item = doc.issuer_id === session.claims.org ? null : await findInboxItem(documentId);
  if (mine !== generation) return;
  current = { doc, item };
  $("detail").dataset.document = doc.id;
  $("detail-title").textContent = `${doc.doc_type_name ?? ""} ${doc.notation ?? "(chưa có số)"}`.trim();
  $("detail-summary").textContent = doc.summary;
  document.title = `${doc.notation ?? doc.summary} — Văn bản điện tử`;
  renderMeta(doc);
  renderSignature(doc.signature);
  renderFiles(doc);
  $("handling").hidden = true;
  $("recipients").hidden = true;
  $("remind-result").textContent = "";
  await Promise.all([
    showPdf(doc, mine),
    item ? renderHandling(doc, item, mine) : null,
    doc.issuer_id === session.claims.org && doc.recipient_count != null ? renderRecipients(doc, mine) : null,
  ]);
}

async function act(step, body, button) {
  if (!current) return;
  $("action-error").textContent = "";
  if (button) button.disabled = true;
  try {
    const result = await api(`inbox/${encodeURIComponent(current.doc.id)}/${step}`,
      { method: "POST", body });
    if (!result.ok) {
      $("action-error").textContent = problemText(result);
      return;
    }
    await render();
  } catch (error) {
    if (error instanceof Unauthorised) session.showLogin("Mã truy cập hết hạn. Xin đăng nhập lại.");
    else $("action-error").textContent = `Lỗi: ${error.message}`;
  } finally {
    if (button) button.disabled = false;
  }
}

function bindActions() {
  const click = (id, step, body = () => ({})) =>
    $(id).addEventListener("click", (event) => act(step, body(), event.currentTarget));
  click("do-register", "register");
  click("do-progress", "progress");
  click("do-complete", "complete");
  click("do-recall-agree", "recall-answer", () => ({ agree: true }));
  click("do-recall-refuse", "recall-answer", () => ({ agree: false }));
  $("assign-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {};
    const department = $("assign-department").value.trim();
    const person = $("assign-person").value.trim();
    if (!department && !person) {
      $("action-error").textContent = "Cần ghi phòng, bộ phận hoặc người xử lý.";
      return;
    }
    if (department) body.department = department;
    if (person) body.person = person;
    if ($("assign-deadline").value) body.deadline = $("assign-deadline").value;
    if ($("assign-note").value.trim()) body.note = $("assign-note").value.trim();
    act("assign", body, event.submitter);
  });
  $("refuse-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act("refuse", { reason: $("refuse-reason").value.trim() }, event.submitter);
  });
  $("do-remind").addEventListener("click", async () => {
    if (!current) return;
    const result = await api(`documents/${encodeURIComponent(current.doc.id)}/remind`,
      { method: "POST", body: {} });
    $("remind-result").textContent = result.ok
      ? `Đã nhắc ${result.body.reminded.length} đơn vị quá hạn.` : problemText(result);
  });
}

// --------------------------------------------------------------------------- start

function init() {
  $("only-overdue").addEventListener("change", () => render());
  bindActions();
  window.addEventListener("hashchange", () => { if (session.signedIn) render(); });
  session.begin();
}

init();

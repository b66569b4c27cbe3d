// Signing in to the platform's web pages (the analytics dashboard, the documents inbox), written
// once so that every page keeps and sends its token the same way. Plain JS, no third-party code.
//
// Security: the token is kept in sessionStorage (this tab only, gone when it closes), never in a
// cookie (no CSRF surface), and sent only as an Authorization header to this same origin. It is
// pasted by the user or handed over in the URL fragment (#token=..., which browsers never send to
// a server), and then removed from the URL at once. The claims are only read here, to show who
// is signed in and to sign out at expiry: the server checks the signature.
//
// A page using this has the elements #login (holding #login-form, #token-input, #login-error),
// #session (holding #session-info, #logout) and #app.

const $ = (id) => document.getElementById(id);

const ROLE_NAMES = {
  department: "Sở GD&ĐT", commune: "UBND xã/phường", school: "Nhà trường",
  teacher: "Giáo viên", auditor: "Kiểm tra", service: "Dịch vụ",
};

/** Thrown by a call the server refused with 401: the page asks for a new token. */
export class Unauthorised extends Error {}

/** The parameters of the URL fragment, where the pages keep their navigation state. */
export function readHash() {
  return new URLSearchParams(location.hash.slice(1));
}

function decodeClaims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims.org === "string" && typeof claims.exp === "number" ? claims : null;
  } catch {
    return null;
  }
}

/** The claims of a usable token (the server checks the signature; this only reads them). */
function checkToken(token) {
  const claims = decodeClaims(token.trim());
  if (!claims) return { error: "Mã truy cập không đúng dạng (JWT có ba phần)." };
  if (claims.exp * 1000 <= Date.now()) return { error: "Mã truy cập đã hết hạn." };
  return { claims };
}

/** A random Idempotency-Key (crypto.randomUUID exists only in secure contexts). */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The sign-in of one page. `storageKey` names the page's token in sessionStorage (each page has
 * its own, so signing out of one leaves the other alone). `onSignedIn()` shows the page once a
 * token is accepted; `onSignedOut()` drops what the page still holds of the last session.
 */
export class Session {
  /** The claims of the token signed in with; null when signed out. */
  claims = null;
  #storageKey;
  #onSignedIn;
  #onSignedOut;
  #expiryTimer = null;

  constructor(storageKey, { onSignedIn, onSignedOut = () => {} }) {
    this.#storageKey = storageKey;
    this.#onSignedIn = onSignedIn;
    this.#onSignedOut = onSignedOut;
  }

  get token() {
    return sessionStorage.getItem(this.#storageKey);
  }

  get signedIn() {
    return Boolean(this.claims && this.token);
  }

  /** Forget the token and show the sign-in form, with why. */
  showLogin(message = "") {
    sessionStorage.removeItem(this.#storageKey);
    clearTimeout(this.#expiryTimer);
    this.claims = null;
    this.#onSignedOut();
    $("app").hidden = true;
    $("session").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message;
    $("token-input").value = "";
    $("token-input").focus();
  }

  /** Sign in with a token, if it is usable, until it expires. */
  async start(token) {
    const checked = checkToken(token);
    if (checked.error) {
      this.showLogin(checked.error);
      return;
    }
    sessionStorage.setItem(this.#storageKey, token.trim());
    const claims = (this.claims = checked.claims);
    const expires = new Date(claims.exp * 1000);
    $("session-info").textContent = `${ROLE_NAMES[claims.role] ?? claims.role} · ${claims.org} · ` +
      `hết hạn ${expires.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" })}`;
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(() => this.showLogin("Mã truy cập đã hết hạn. Xin đăng nhập lại."),
      Math.min(expires - Date.now(), 2 ** 31 - 1));
    $("login").hidden = true;
    $("session").hidden = false;
    $("app").hidden = false;
    await this.#onSignedIn();
  }

  /** Wire the sign-in form and the sign-out button, and sign in with a token handed over in
   * the fragment or kept from before in this tab; else ask for one. */
  begin() {
    const params = readHash();
    if (params.has("token")) {
      // Handed over in the fragment (never sent to the server): keep it, drop it from the URL.
      const token = params.get("token");
      params.delete("token");
      history.replaceState(null, "", `${location.pathname}${params.toString() ? `#${params}` : ""}`);
      sessionStorage.setItem(this.#storageKey, token);
    }
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start($("token-input").value);
    });
    $("logout").addEventListener("click", () => this.showLogin("Đã đăng xuất."));
    const token = this.token;
    if (token) this.start(token);
    else this.showLogin();
  }

  /** Call a JSON API of this origin with the token: { status, ok, body } (body null when the
   * answer is not JSON); throws Unauthorised on 401. A POST carries a fresh Idempotency-Key,
   * so that a retried click is never applied twice. */
  async api(path, { method = "GET", body } = {}) {
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "application/json" };
    if (method === "POST") {
      headers["Content-Type"] = "application/json";
      headers["Idempotency-Key"] = newKey();
    }
    const response = await fetch(path, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) throw new Unauthorised();
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    return { status: response.status, ok: response.ok, body: parsed };
  }

  /** Fetch a file of this origin with the token (an <object data> could not send it). */
  async fetchBlob(path) {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${this.token}` }, cache: "no-store",
    });
    if (response.status === 401) throw new Unauthorised();
    if (!response.ok) return { ok: false, status: response.status };
    return { ok: true, blob: await response.blob() };
  }
}

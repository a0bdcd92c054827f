// schoolroll console: the shell. Screens live in their own files and
// register themselves with SR.screen(name, {title, nav, render}).
// Talks only to the JSON API; every error is shown as its human message.
(function () {
  "use strict";
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  const banner = document.getElementById("banner");
  const toastEl = document.getElementById("toast");
  const store = window.sessionStorage;
  const screens = {};
  const order = [];
  const SR = (window.SR = { me: null });
  // The console lives at the API's root: "/" locally, "/<stage>/" on API Gateway's
  // own URL. Every URL is relative to it.
  SR.base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";

  // ---- A CSV the API serves, saved as a file (the token goes in a header, so not a plain link)
  SR.downloadCsv = async function downloadCsv(path, filename) {
    const res = await fetch(SR.base + "api" + path, { headers: { Authorization: "Bearer " + store.getItem("token") } });
    if (!res.ok) {
      let data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      throw new Error((data && data.message) || "The file could not be fetched (" + res.status + ").");
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url; a.download = filename; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  // ---- API: JSON in, JSON out; errors become Error(message) with .code/.status/.data
  // "A", "A and B", "A, B and C"
  // "1 row", "3 rows", "2 people"
  SR.plural = (n, one, many) => n + " " + (n === 1 ? one : (many || one + "s"));
  SR.andList = (items) => (items.length < 2 ? items.join("") : items.slice(0, -1).join(", ") + " and " + items[items.length - 1]);
  // How many rows an import's result counts as imported (new, changed, unchanged, back on roll).
  SR.importedCount = (r) => (r.created || 0) + (r.updated || 0) + (r.unchanged || 0) + (r.restored || 0);

  // A file the API answers (with the caller's token), saved by the browser.
  SR.download = async function download(path, filename) {
    const res = await fetch(SR.base + "api" + path, { headers: { Authorization: "Bearer " + store.getItem("token") } });
    if (!res.ok) {
      let data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      throw new Error((data && data.message) || ("Something went wrong (" + res.status + ")."));
    }
    const url = URL.createObjectURL(await res.blob());
    const link = el("a", { href: url, download: filename });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };

  SR.api = async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    const token = store.getItem("token");
    if (token) headers.Authorization = "Bearer " + token;
    let res;
    try {
      res = await fetch(SR.base + "api" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new Error("Cannot reach the server. Check your connection and try again.");
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.message) || ("Something went wrong (" + res.status + ")."));
      err.code = data && data.code; err.status = res.status; err.data = data;
      if (res.status === 401 && path !== "/auth/login") { store.removeItem("token"); }
      if (res.status === 403 && err.code === "mfa_setup_required") mfaSetupRequired();
      throw err;
    }
    return data;
  };

  // The school requires two-factor sign-in for this person's role and they have not set
  // it up: every route but a few answers 403 mfa_setup_required. Take them to the set-up
  // (once, however many calls were in flight).
  function mfaSetupRequired() {
    if (SR.me && SR.me.mfa_setup_required) return;
    if (SR.me) Object.assign(SR.me, { mfa_setup_required: true, mfa_enabled: false });
    SR.go("#/account");
  }

  // ---- DOM helpers
  SR.el = function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === undefined || v === null || v === false) return;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    });
    children.flat(Infinity).forEach((c) => {
      if (c === undefined || c === null || c === false) return;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    });
    return node;
  };
  const el = SR.el;

  SR.field = function field(id, label, type, attrs) {
    return el("div", { class: "field" }, el("label", { for: id }, label),
      el("input", Object.assign({ id, name: id, type: type || "text" }, attrs || { required: true })),
      el("p", { class: "field-error", id: id + "-error", role: "alert" }));
  };

  // Shows field errors from a validation_failed error beside each field.
  // Returns how many were placed.
  SR.showFieldErrors = function (container, err) {
    let placed = 0;
    container.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
    ((err && err.data && err.data.errors) || []).forEach((e) => {
      const name = String(e.field || "").split(".").pop();
      const slot = container.querySelector("#" + CSS.escape(name) + "-error");
      if (slot) { slot.textContent = e.message; placed += 1; }
    });
    return placed;
  };

  SR.form = function form(title, fields, submitLabel, onSubmit, extra) {
    const error = el("p", { class: "error", role: "alert" });
    const f = el("form", {}, title ? el("h2", {}, title) : null, fields,
      el("button", { type: "submit" }, submitLabel), error, extra || []);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      SR.showFieldErrors(f, null);
      const values = Object.fromEntries(new FormData(f).entries());
      const button = f.querySelector("button[type=submit]");
      button.disabled = true;
      try { await onSubmit(values, f); } catch (e) {
        error.textContent = SR.showFieldErrors(f, e) ? "Please correct the fields marked above." : e.message;
      }
      finally { button.disabled = false; }
    });
    return f;
  };

  SR.show = function show(...nodes) { main.replaceChildren(...nodes); };
  SR.toast = function toast(message) {
    toastEl.textContent = message;
    clearTimeout(toast.t);
    toast.t = setTimeout(() => { toastEl.textContent = ""; }, 5000);
  };
  SR.can = (permission) => !!(SR.me && SR.me.permissions.indexOf(permission) >= 0);

  // ---- screens and routing (#/name/arg)
  SR.screen = function (name, def) { screens[name] = def; order.push(name); };
  SR.go = function (hash) { if (location.hash === hash) route(); else location.hash = hash; };

  async function route() {
    if (location.hash.startsWith("#action=")) return openLink();
    if (location.hash.startsWith("#sso")) return providerReturn();
    if (location.hash.startsWith("#sign-in=")) {  // a school's sign-in link: its provider's button
      sessionStorage.setItem("sso-school", location.hash.slice("#sign-in=".length));
      history.replaceState(null, "", location.pathname);
      if (!store.getItem("token")) return signIn();
    }
    if (!store.getItem("token")) return signIn();
    if (!SR.me) {
      try { SR.me = await SR.api("GET", "/me"); } catch (e) { store.removeItem("token"); return signIn(); }
    }
    if (SR.me.mfa_setup_required && !location.hash.startsWith("#/account")) {
      history.replaceState(null, "", location.pathname + "#/account");
    }
    renderChrome();
    const [name, ...args] = (location.hash.replace(/^#\/?/, "") || "home").split("/");
    const screen = screens[name] || screens.home;
    nav.querySelectorAll("a").forEach((a) => a.removeAttribute("aria-current"));
    const link = nav.querySelector('a[data-screen="' + name + '"]');
    if (link) link.setAttribute("aria-current", "page");
    document.title = screen.title + " · schoolroll";
    const holder = el("section", { "aria-labelledby": "screen-title" });
    main.replaceChildren(holder);
    try {
      await screen.render(holder, args.map(decodeURIComponent));
    } catch (e) {
      holder.replaceChildren(el("h2", { id: "screen-title" }, screen.title), el("p", { class: "error", role: "alert" }, e.message));
    }
  }
  SR.refresh = route;

  // Under 700 px the menu folds behind "Menu"; choosing a screen folds it again
  const menu = document.getElementById("menu-toggle");
  function foldMenu(open) {
    menu.setAttribute("aria-expanded", open ? "true" : "false");
    menu.parentElement.classList.toggle("open", open);
  }
  menu.addEventListener("click", () => foldMenu(menu.getAttribute("aria-expanded") !== "true"));
  nav.addEventListener("click", (ev) => { if (ev.target.closest("a")) foldMenu(false); });

  function renderChrome() {
    const links = order.filter((n) => screens[n].nav && (!screens[n].visible || screens[n].visible()))
      .filter((n) => !SR.me.mfa_setup_required || n === "account")
      .map((n) => el("a", { href: "#/" + n, "data-screen": n }, screens[n].title));
    nav.replaceChildren(...links, el("button", { type: "button", class: "ghost", onclick: signOut }, "Sign out"));
    if (!SR.me.email_verified) {
      banner.hidden = false;
      banner.replaceChildren("Verify your email to unlock adding and importing pupils and staff. ",
        el("button", { type: "button", class: "link", onclick: resend }, "Send a new link"));
    } else { banner.hidden = true; }
  }

  // ---- signed-out screens
  function signUp() {
    nav.replaceChildren(); banner.hidden = true;
    SR.show(SR.form("Sign your school up", [
      SR.field("school", "School name"), SR.field("first_name", "Your first name"), SR.field("surname", "Your surname"),
      SR.field("email", "Your email", "email"), SR.field("password", "Password (10+ characters)", "password"),
    ], "Sign up", async (v) => {
      await SR.api("POST", "/schools", { name: v.school, admin: { first_name: v.first_name, surname: v.surname, email: v.email, password: v.password } });
      SR.show(el("h2", {}, "Check your email"), el("p", {}, "We sent a link to " + v.email + ". Open it to verify your address, then sign in."),
        el("button", { type: "button", onclick: () => signIn() }, "Sign in"));
    }, el("p", {}, "Already signed up? ", el("button", { type: "button", class: "link", onclick: () => signIn() }, "Sign in"))));
  }

  // message: a note shown under the form (an error when isError).
  function signIn(message, isError) {
    nav.replaceChildren(); banner.hidden = true; SR.me = null;
    const form = SR.form("Sign in", [SR.field("email", "Email", "email"), SR.field("password", "Password", "password")], "Sign in", async (v) => {
      const t = await SR.api("POST", "/auth/login", { email: v.email, password: v.password });
      if (t.mfa_required) return mfaStep(t.mfa_token);
      signedIn(t);
    }, [message ? el("p", { class: isError ? "error" : "ok", role: isError ? "alert" : "status" }, message) : "",
        el("p", {}, el("button", { type: "button", class: "link", onclick: (ev) => SR.forgotPassword(ev.currentTarget.form.elements.email.value) }, "Forgot your password?")),
        el("p", {}, "New school? ", el("button", { type: "button", class: "link", onclick: signUp }, "Sign up"))]);
    SR.ssoWayIn(form);  // (sso.js: the typed address's school may sign in with its own accounts)
    SR.show(form);
  }
  SR.signIn = signIn;

  function signedIn(t) {
    store.setItem("token", t.token);
    SR.me = null;
    SR.go("#/home");
  }
  SR.signedIn = signedIn;

  // Back from the school's provider with a one-time code in the fragment (which no
  // request sends): cleared from the address bar before it is used. A test sign-in's
  // report is shown in Administration.
  function providerReturn() {
    const params = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, "", location.pathname);
    if (params.get("sso-test")) {
      sessionStorage.setItem("sso-test", params.get("sso-test"));
      return SR.go("#/admin");
    }
    return SR.ssoReturn(params);
  }

  // The second step of a two-factor sign-in: a code from the app, or a recovery code.
  // The step's token lasts 5 minutes; when it has gone, back to the password.
  function mfaStep(mfaToken) {
    const f = SR.form("Two-factor sign-in", [
      el("p", { id: "code-help" }, "Enter the 6-digit code from your authenticator app, or a recovery code."),
      SR.field("code", "Code", "text", { required: true, autocomplete: "one-time-code",
        spellcheck: "false", "aria-describedby": "code-help" }),
    ], "Continue", async (v) => {
      let t;
      try { t = await SR.api("POST", "/auth/mfa/verify", { mfa_token: mfaToken, code: v.code.trim() }); }
      catch (e) {
        if (e.code === "invalid_token") return signIn(e.message, true);  // the 5-minute step has gone
        f.querySelector("#code").select();
        throw e;
      }
      signedIn(t);
    }, el("p", {}, el("button", { type: "button", class: "link", onclick: () => signIn() }, "Back to sign in")));
    SR.show(f);
    f.querySelector("#code").focus();
  }

  function acceptInvite(token) {
    SR.show(SR.form("Choose your password", [SR.field("password", "Password (10+ characters)", "password")], "Save password", async (v) => {
      await SR.api("POST", "/auth/accept-invite", { token, password: v.password });
      signIn("Your password is set. Sign in with the email address the invitation came to.");
    }));
  }

  async function resend() {
    try { await SR.api("POST", "/auth/resend-verification"); banner.replaceChildren("A new link is on its way."); }
    catch (e) { banner.replaceChildren(e.message); }
  }

  async function signOut() {
    try { await SR.api("POST", "/auth/logout"); } catch (e) { /* token already gone */ }
    SR.signedOut("You are signed out.");
  }
  // The server has already ended this token (sign out, sign out everywhere).
  SR.signedOut = function signedOut(message) {
    store.removeItem("token");
    history.replaceState(null, "", location.pathname);
    signIn(message);
  };

  // An emailed link carries its token in the fragment (#action=...&token=...),
  // which no request sends; it is cleared before the first request is made.
  async function openLink() {
    const params = new URLSearchParams(location.hash.slice(1));
    const action = params.get("action");
    const token = params.get("token");
    history.replaceState(null, "", location.pathname);
    if (!token) return route();
    if (action === "accept-invite") return acceptInvite(token);
    if (action === "reset-password") return SR.resetPassword(token);
    if (action === "verify") {
      try {
        await SR.api("POST", "/auth/verify", { token });
        if (store.getItem("token")) { SR.me = null; SR.toast("Your email is verified."); return SR.go("#/home"); }
        return signIn("Your email is verified. Sign in to continue.");
      } catch (e) {
        return SR.show(el("h2", {}, "That link did not work"), el("p", { class: "error", role: "alert" }, e.message),
          el("button", { type: "button", onclick: () => signIn() }, "Sign in"));
      }
    }
    return route();
  }

  SR.start = async function start() {
    window.addEventListener("hashchange", route);
    return route();
  };
})();

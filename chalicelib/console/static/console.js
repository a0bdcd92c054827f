// Minimal console: sign up, verify, sign in, who am I, sign out.
// Talks only to the JSON API; every error is shown as its human message.
(function () {
  "use strict";
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  const banner = document.getElementById("banner");
  const store = window.sessionStorage;

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    const token = store.getItem("token");
    if (token) headers.Authorization = "Bearer " + token;
    let res;
    try {
      res = await fetch("/api" + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    } catch (e) {
      throw new Error("Cannot reach the server. Check your connection and try again.");
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.message) || ("Request failed (" + res.status + ")."));
      err.code = data && data.code; err.status = res.status;
      throw err;
    }
    return data;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    });
    children.flat(Infinity).forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c)));
    return node;
  }

  function field(id, label, type) {
    return [el("label", { for: id }, label), el("input", { id, name: id, type: type || "text", required: "" })];
  }

  function show(...nodes) { main.replaceChildren(...nodes); main.focus(); }

  function form(title, fields, submitLabel, onSubmit, extra) {
    const error = el("p", { class: "error", role: "alert" });
    const f = el("form", {}, el("h2", {}, title), fields, el("button", { type: "submit" }, submitLabel), error, extra || []);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      const values = Object.fromEntries(new FormData(f).entries());
      try { await onSubmit(values); } catch (e) { error.textContent = e.message; }
    });
    return f;
  }

  function signUp() {
    show(form("Sign your school up", [
      field("school", "School name"), field("first_name", "Your first name"), field("surname", "Your surname"),
      field("email", "Your email", "email"), field("password", "Password (10+ characters)", "password"),
    ], "Sign up", async (v) => {
      await api("POST", "/schools", { name: v.school, admin: { first_name: v.first_name, surname: v.surname, email: v.email, password: v.password } });
      show(el("h2", {}, "Check your email"), el("p", {}, "We sent a link to " + v.email + ". Open it to verify your address, then sign in."),
        el("button", { onclick: signIn }, "Sign in"));
    }, el("p", {}, "Already signed up? ", el("button", { type: "button", class: "link", onclick: signIn }, "Sign in"))));
  }

  function signIn(message) {
    show(form("Sign in", [field("email", "Email", "email"), field("password", "Password", "password")], "Sign in", async (v) => {
      const t = await api("POST", "/auth/login", { email: v.email, password: v.password });
      store.setItem("token", t.token);
      home();
    }, [typeof message === "string" ? el("p", { class: "ok" }, message) : "",
        el("p", {}, "New school? ", el("button", { type: "button", class: "link", onclick: signUp }, "Sign up"))]));
  }

  async function home() {
    let me;
    try { me = await api("GET", "/me"); } catch (e) { store.removeItem("token"); return signIn(); }
    nav.replaceChildren(el("button", { onclick: signOut }, "Sign out"));
    if (!me.email_verified) {
      banner.hidden = false;
      banner.replaceChildren("Verify your email to unlock adding and importing pupils and staff. ",
        el("button", { class: "link", onclick: resend }, "Send a new link"));
    } else { banner.hidden = true; }
    show(el("h2", {}, me.school.name),
      el("p", {}, "Signed in as " + me.user.first_name + " " + me.user.surname + " (" + me.user_group + ")."),
      el("p", {}, "Email " + (me.email_verified ? "verified." : "not verified yet.")));
  }

  async function resend() {
    try { await api("POST", "/auth/resend-verification"); banner.replaceChildren("A new link is on its way."); }
    catch (e) { banner.replaceChildren(e.message); }
  }

  async function signOut() {
    try { await api("POST", "/auth/logout"); } catch (e) { /* token already gone */ }
    store.removeItem("token");
    nav.replaceChildren(); banner.hidden = true;
    signIn("You are signed out.");
  }

  async function start() {
    const params = new URLSearchParams(window.location.search);
    if (params.get("action") === "verify" && params.get("token")) {
      history.replaceState(null, "", "/");
      try {
        await api("POST", "/auth/verify", { token: params.get("token") });
        return store.getItem("token") ? home() : signIn("Your email is verified. Sign in to continue.");
      } catch (e) {
        return show(el("h2", {}, "That link did not work"), el("p", { class: "error", role: "alert" }, e.message),
          el("button", { onclick: signIn }, "Sign in"));
      }
    }
    return store.getItem("token") ? home() : signIn();
  }
  start();
})();

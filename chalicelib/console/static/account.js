// schoolroll console: a person's own account. Signed out: "forgot your password"
// and the emailed reset link. Signed in: "Your account" (change password,
// two-factor sign-in, where you're signed in); it is also where the console
// sends someone whose school requires two-factor sign-in before they have set it up.
(function () {
  "use strict";
  const SR = window.SR;
  const el = SR.el;

  // An error SR.form shows beside one field (as the API's validation_failed would).
  function fieldError(field, message) {
    const e = new Error(message);
    e.data = { errors: [{ field, message }] };
    return e;
  }
  const sameTwice = (a, b, field) => { if (a !== b) throw fieldError(field, "The two passwords are not the same."); };
  const newPassword = (id, label) => SR.field(id, label, "password", { required: true, autocomplete: "new-password" });

  // ISO date-time (or epoch seconds) in the school's timezone, e.g. "3 May 2024, 15:30".
  function when(value) {
    if (value === null || value === undefined || value === "") return "—";
    const d = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
    if (isNaN(d.getTime())) return String(value);
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: (SR.me && SR.me.school && SR.me.school.timezone) || undefined,
        dateStyle: "medium", timeStyle: "short" }).format(d);
    } catch (e) { return d.toLocaleString(); }
  }

  // "Chrome on Linux" from a User-Agent header (the whole header is the row's title).
  function browserName(ua) {
    if (!ua) return "Unknown browser";
    const browser = [[/Edg\//, "Edge"], [/OPR\//, "Opera"], [/Firefox\//, "Firefox"], [/Chrome\//, "Chrome"],
      [/Safari\//, "Safari"], [/^python-requests|curl\//i, "A script"]].find(([re]) => re.test(ua));
    const os = [[/iPhone|iPad/, "iOS"], [/Android/, "Android"], [/Windows/, "Windows"], [/Mac OS X/, "macOS"],
      [/CrOS/, "ChromeOS"], [/Linux/, "Linux"]].find(([re]) => re.test(ua));
    if (!browser) return ua.length > 40 ? ua.slice(0, 40) + "…" : ua;
    return browser[1] + (os ? " on " + os[1] : "");
  }

  // base64 of text as UTF-8 (btoa alone takes only Latin-1).
  function base64(text) {
    let binary = "";
    new TextEncoder().encode(text).forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary);
  }

  // ---------------------------------------------------------------- signed out
  SR.forgotPassword = function forgotPassword(email) {
    const f = SR.form("Forgot your password?", [
      el("p", {}, "Enter the email address you sign in with and we'll email you a link to choose a new password."),
      SR.field("email", "Email", "email", { required: true, value: email || "", autocomplete: "email" }),
    ], "Email me a link", async (v) => {
      await SR.api("POST", "/auth/forgot-password", { email: v.email.trim() });
      SR.show(el("h2", {}, "Check your email"),
        el("p", { class: "ok", role: "status" }, "If that address has an account, we've emailed a link (valid 30 minutes)."),
        el("button", { type: "button", onclick: () => SR.signIn() }, "Back to sign in"));
    }, el("p", {}, el("button", { type: "button", class: "link", onclick: () => SR.signIn() }, "Back to sign in")));
    SR.show(f);
    f.querySelector("#email").focus();
  };

  // From the emailed link (#action=reset-password&token=...; app.js has cleared the fragment).
  SR.resetPassword = function resetPassword(token) {
    SR.show(SR.form("Choose a new password", [
      newPassword("password", "New password (10+ characters)"),
      newPassword("password_again", "New password again"),
    ], "Save new password", async (v) => {
      sameTwice(v.password, v.password_again, "password_again");
      try { await SR.api("POST", "/auth/reset-password", { token, password: v.password }); }
      catch (e) {
        if (e.code !== "invalid_token") throw e;
        return SR.show(el("h2", {}, "That link did not work"), el("p", { class: "error", role: "alert" }, e.message),
          el("div", { class: "toolbar" },
            el("button", { type: "button", onclick: () => SR.forgotPassword() }, "Email me a new link"),
            el("button", { type: "button", class: "secondary", onclick: () => SR.signIn() }, "Sign in")));
      }
      SR.signedOut("Password changed: sign in with your new password");
    }));
  };

  // ---------------------------------------------------------------- your account
  SR.screen("account", {
    title: "Your account", nav: true,
    render: async function (box) {
      const me = SR.me;
      const mfa = el("section", { class: "account-part", "aria-labelledby": "mfa-title" });
      if (me.mfa_setup_required) {
        box.replaceChildren(el("h2", { id: "screen-title" }, "Set up two-factor sign-in"),
          el("p", { class: "notice", role: "status" }, "Your school requires two-factor sign-in for your role. " +
            "Set it up to carry on: you need an authenticator app on your phone (for example Google Authenticator, " +
            "Microsoft Authenticator or 1Password)."), mfa);
        return renderMfa(mfa, true);
      }
      const sessions = el("section", { class: "account-part", "aria-labelledby": "sessions-title" });
      box.replaceChildren(el("h2", { id: "screen-title" }, "Your account"),
        el("p", {}, "Signed in as " + me.user.first_name + " " + me.user.surname + " (" + me.user.email + ")."),
        passwordPart(sessions), mfa, sessions);
      renderMfa(mfa, false);
      await loadSessions(sessions);
    },
  });

  // ---- change password
  function passwordPart(sessions) {
    const done = el("p", { class: "ok", role: "status" });
    const f = SR.form(null, [
      SR.field("current_password", "Current password", "password", { required: true, autocomplete: "current-password" }),
      newPassword("new_password", "New password (10+ characters)"),
      newPassword("new_password_again", "New password again"),
    ], "Change password", async (v, form) => {
      done.textContent = "";
      sameTwice(v.new_password, v.new_password_again, "new_password_again");
      await SR.api("POST", "/auth/change-password", { current_password: v.current_password, new_password: v.new_password });
      form.reset();
      done.textContent = "Your password is changed.";
      loadSessions(sessions).catch(() => {});
    }, done);
    return el("section", { class: "account-part", "aria-labelledby": "password-title" },
      el("h3", { id: "password-title" }, "Change your password"), f);
  }

  // ---- two-factor sign-in
  function renderMfa(section, forced) {
    const title = el("h3", { id: "mfa-title" }, "Two-factor sign-in");
    if (SR.me.mfa_enabled) {
      const f = SR.form(null, [
        SR.field("code", "Code from your authenticator app (or a recovery code)", "text",
          { required: true, autocomplete: "one-time-code", spellcheck: "false" }),
      ], "Turn off two-factor", async (v) => {
        const r = await SR.api("DELETE", "/auth/mfa", { code: v.code.trim() });
        if (r.mfa_enabled === false) SR.me = null;  // read /me again
        SR.toast("Two-factor sign-in is off.");
        SR.refresh();
      });
      return section.replaceChildren(title,
        el("p", {}, el("span", { class: "badge badge-active" }, "On"),
          " Signing in needs your password and a code from your authenticator app."),
        el("p", {}, "To turn it off, enter a current code."), f);
    }
    const error = el("p", { class: "error", role: "alert" });
    const start = el("button", { type: "button" }, "Set up two-factor sign-in");
    start.addEventListener("click", async () => {
      start.disabled = true; error.textContent = "";
      try { await setUp(section, forced); } catch (e) { error.textContent = e.message; start.disabled = false; }
    });
    section.replaceChildren(title, forced ? "" : el("p", {}, el("span", { class: "badge" }, "Off"),
      " With two-factor sign-in on, signing in needs your password and a code from an authenticator app on your phone."),
    start, error);
  }

  async function setUp(section, forced) {
    const s = await SR.api("POST", "/auth/mfa/setup");
    const secret = String(s.secret || "");
    const f = SR.form(null, [
      SR.field("code", "6-digit code from the app", "text",
        { required: true, autocomplete: "one-time-code", inputmode: "numeric", spellcheck: "false" }),
    ], "Turn on two-factor sign-in", async (v) => {
      const r = await SR.api("POST", "/auth/mfa/confirm", { code: v.code.replace(/\s+/g, "") });
      showRecoveryCodes(section, r.recovery_codes || [], forced);
    });
    section.replaceChildren(el("h3", { id: "mfa-title" }, "Set up two-factor sign-in"),
      el("ol", { class: "mfa-steps" },
        el("li", {}, "Scan this QR code with your authenticator app:",
          el("img", { class: "qr", src: "data:image/svg+xml;base64," + base64(s.qr_svg || ""),
            alt: "QR code for adding schoolroll to an authenticator app" })),
        el("li", {}, "Or type this key into the app instead: ",
          el("code", { class: "secret", id: "mfa-secret" }, secret.replace(/(.{4})(?=.)/g, "$1 ")),
          s.otpauth_uri ? el("span", {}, " (on this phone? ", el("a", { href: s.otpauth_uri }, "open it in the app"), ")") : ""),
        el("li", {}, "Enter the 6-digit code the app shows, to check it works:", f)));
    f.querySelector("#code").focus();
  }

  function showRecoveryCodes(section, codes, forced) {
    const download = el("button", { type: "button", class: "secondary" }, "Download codes");
    download.addEventListener("click", () => {
      const text = "schoolroll recovery codes for " + SR.me.user.email + " (" + SR.me.school.name + ")\n" +
        "Each code signs you in once, instead of a code from your authenticator app.\n\n" + codes.join("\n") + "\n";
      const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
      const a = el("a", { href: url, download: "schoolroll-recovery-codes.txt" });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    });
    const onward = el("button", { type: "button" }, forced ? "I've saved them: continue" : "I've saved them");
    onward.addEventListener("click", () => {
      SR.me = null;
      if (forced) SR.go("#/home"); else SR.refresh();
    });
    section.replaceChildren(el("h3", { id: "mfa-title" }, "Two-factor sign-in is on"),
      el("p", { class: "warning", role: "alert" }, "Save your recovery codes now: they are shown once only. " +
        "If you lose your phone, each code signs you in once instead of a code from the app."),
      el("ol", { class: "recovery-codes", "aria-label": "Recovery codes" }, codes.map((c) => el("li", {}, el("code", {}, c)))),
      el("div", { class: "toolbar" }, download, onward));
    download.focus();
  }

  // ---- where you're signed in
  async function loadSessions(section) {
    const title = el("h3", { id: "sessions-title" }, "Where you're signed in");
    let data;
    try { data = await SR.api("GET", "/auth/sessions"); }
    catch (e) { return section.replaceChildren(title, el("p", { class: "error", role: "alert" }, e.message)); }
    const error = el("p", { class: "error", role: "alert" });
    const items = data.items || [];
    const rows = items.map((s) => {
      const name = browserName(s.user_agent);
      const out = el("button", { type: "button", class: "secondary small",
        "aria-label": s.current ? "Sign out this browser" : "Sign out " + name + " (signed in " + when(s.created_at) + ")" }, "Sign out");
      out.addEventListener("click", async () => {
        out.disabled = true; error.textContent = "";
        try {
          await SR.api("DELETE", "/auth/sessions/" + encodeURIComponent(s.id));
          if (s.current) return SR.signedOut("You are signed out.");
          SR.toast("Signed out " + name + ".");
          await loadSessions(section);
        } catch (e) { error.textContent = e.message; out.disabled = false; }
      });
      return el("tr", { class: s.current ? "current" : "" },
        el("td", { title: s.user_agent || "" }, name, s.current ? [" ", el("span", { class: "badge badge-active" }, "This browser")] : ""),
        el("td", {}, when(s.created_at)), el("td", {}, when(s.last_used_at)), el("td", {}, out));
    });
    const everywhere = el("button", { type: "button", class: "danger" }, "Sign out everywhere");
    everywhere.addEventListener("click", async () => {
      everywhere.disabled = true; error.textContent = "";
      try { await SR.api("POST", "/auth/logout-everywhere"); SR.signedOut("You are signed out everywhere."); }
      catch (e) { error.textContent = e.message; everywhere.disabled = false; }
    });
    section.replaceChildren(title,
      el("div", { class: "table-scroll", role: "region", "aria-label": "Your sessions", tabindex: "0" },
        el("table", {}, el("caption", {}, "Browsers and apps signed in as you"),
          el("thead", {}, el("tr", {}, ["Browser", "Signed in", "Last used", "Actions"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 4 }, "No sessions."))))),
      el("p", {}, everywhere, " ", el("span", { class: "note" }, "Signs out every browser and app, this one included.")), error);
  }
})();

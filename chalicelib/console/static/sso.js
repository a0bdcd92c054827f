// schoolroll console: signing in with the school's Microsoft, Google or other OpenID
// account. On the sign-in screen the address typed first decides the way in (its
// domain's school and provider); back from the provider, the one-time code in the
// fragment is swapped for a session and cleared from the address bar. In
// Administration: the provider's settings and a test sign-in that shows what the
// provider's ID token held.
(function () {
  "use strict";
  const el = SR.el;
  const api = (path) => "/api" + path;

  // ---- the sign-in screen: ask which way in the typed address's domain has (or, opened from
  // a school's sign-in link #sign-in=<school id>, that school's)
  SR.ssoWayIn = function (form) {
    const email = form.elements.email;
    const password = form.querySelector("#password").closest(".field");
    const holder = el("div", { class: "sso-way-in", id: "sso-way-in", "aria-live": "polite" });
    form.insertBefore(holder, password);
    const linked = sessionStorage.getItem("sso-school");
    let asked = "";
    const show = (found) => {
      holder.replaceChildren();
      password.hidden = false;
      if (!found.sso) return;
      const go = el("button", { type: "button", class: "sso-button", id: "sso-button" }, found.sso.label);
      go.addEventListener("click", () => {
        // a value only this tab knows, shown again to swap the code: a sign-in someone else
        // started (a link, a page that sends the browser to the provider) signs nobody in here
        const bytes = crypto.getRandomValues(new Uint8Array(32));
        const console_ = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
        sessionStorage.setItem("sso-console", console_);
        location.assign(api("/auth/sso/start?school=" + encodeURIComponent(found.sso.school_id) +
          "&login_hint=" + encodeURIComponent(email.value.trim()) + "&console=" + console_));
      });
      holder.append(el("p", { class: "note" }, found.sso.school_name + " signs in with its own accounts."), go);
      if (found.sso.require) {
        // Only the school's admins (manage_settings) keep a password way in.
        password.hidden = true;
        holder.append(el("p", {}, el("button", { type: "button", class: "link", onclick: () => {
          password.hidden = false; form.querySelector("#password").focus();
        } }, "I am the school's admin: use my password")));
      }
    };
    const ask = async () => {
      const value = email.value.trim();
      const domain = value.split("@")[1] || "";
      if (linked || !domain || domain === asked) return;
      asked = domain;
      let found;
      try { found = await SR.api("GET", "/auth/sso/discover?email=" + encodeURIComponent(value)); } catch (e) { return; }
      if (asked === domain) show(found);  // (unless typed on meanwhile)
    };
    if (linked) {
      SR.api("GET", "/auth/sso/discover?school=" + encodeURIComponent(linked)).then(show, () => {});
    }
    email.addEventListener("change", ask);
    email.addEventListener("blur", ask);
  };

  // ---- back from the provider: #sso=<code> (a session) or #sso-test=<code> (a report)
  SR.ssoReturn = async function (params) {
    const code = params.get("sso");
    const console_ = sessionStorage.getItem("sso-console") || "";
    sessionStorage.removeItem("sso-console");
    try {
      const t = await SR.api("POST", "/auth/sso/exchange", { code, console: console_ });
      return SR.signedIn(t);
    } catch (e) {
      return SR.signIn(e.message, true);
    }
  };

  function report(result) {
    const claims = Object.keys(result.claims).map((k) => el("tr", {}, el("th", { scope: "row" }, el("code", {}, k)),
      el("td", {}, String(result.claims[k]))));
    return el("div", { class: result.would_sign_in ? "notice" : "notice error", role: "status", id: "sso-test-report" },
      el("p", {}, result.would_sign_in ? "The test worked: " + result.message
        : "This person would not be signed in: " + (result.message || result.reason)),
      el("table", {}, el("caption", {}, "What the provider's ID token held"), el("tbody", {}, claims)));
  }

  SR.ssoTestResult = async function (code) {
    const result = await SR.api("POST", "/settings/sso/test-result", { code });
    return report(result);
  };

  // ---- Administration: the provider
  const KINDS = [["microsoft", "Microsoft (Entra ID)"], ["google", "Google Workspace"], ["oidc", "Another OpenID provider"]];
  const ISSUER_HELP = {
    microsoft: "Your Entra ID tenant id (Entra admin centre → Overview).",
    google: "Not needed: Google's issuer is https://accounts.google.com.",
    oidc: "The issuer URL (its discovery document is at <issuer>/.well-known/openid-configuration).",
  };

  SR.ssoSection = function (settings, reload, notice) {
    const kind = el("select", { id: "sso_provider", name: "provider" },
      KINDS.map(([v, label]) => el("option", { value: v, selected: settings.provider === v }, label)));
    const issuerHelp = el("p", { class: "note", id: "sso_issuer-help" });
    const showHelp = () => { issuerHelp.textContent = ISSUER_HELP[kind.value]; };
    kind.addEventListener("change", showHelp);
    showHelp();
    const issuer = SR.field("issuer", "Issuer or tenant id", "text", { value: settings.issuer || "",
      "aria-describedby": "sso_issuer-help issuer-error" });
    issuer.insertBefore(issuerHelp, issuer.querySelector(".field-error"));
    const form = SR.form(null, [
      el("p", { class: "note" }, "Register this redirect URI with the provider: ", el("code", {}, settings.redirect_uri)),
      el("div", { class: "field" }, el("label", { for: "sso_provider" }, "Provider"), kind),
      issuer,
      SR.field("client_id", "Client (application) id", "text", { value: settings.client_id || "", required: true }),
      SR.field("client_secret", settings.configured ? "Client secret (leave empty to keep the saved one)" : "Client secret",
        "password", settings.configured ? { autocomplete: "off" } : { required: true, autocomplete: "off" }),
      SR.field("allowed_domains", "Email domains your staff sign in with (comma-separated)", "text",
        { value: (settings.allowed_domains || []).join(", "), required: true }),
      el("div", { class: "field" }, el("label", {}, el("input", { type: "checkbox", name: "require", checked: !!settings.require }),
        " Staff must sign in this way (admins keep their password, so a broken provider locks nobody out)")),
    ], "Save sign-in settings", async (v) => {
      const body = { provider: v.provider, client_id: v.client_id.trim(), require: v.require === "on",
        allowed_domains: v.allowed_domains.split(",").map((d) => d.trim()).filter(Boolean) };
      if (v.issuer.trim()) body.issuer = v.issuer.trim();
      if (v.client_secret) body.client_secret = v.client_secret;
      try { await SR.api("PUT", "/settings/sso", body); } catch (e) {
        if (e.data && e.data.errors) e.data.errors.forEach((x) => { x.field = String(x.field).replace(/\..*$/, ""); });
        throw e;
      }
      SR.toast("Sign-in settings saved.");
      await reload();
    });
    const actions = el("p");
    if (settings.configured) {
      const test = el("button", { type: "button", class: "secondary", id: "sso-test" }, "Test sign-in");
      test.addEventListener("click", async () => {
        const started = await SR.api("POST", "/settings/sso/test");
        location.assign(started.url);
      });
      const off = el("button", { type: "button", class: "secondary" }, "Stop signing in this way");
      off.addEventListener("click", async () => {
        if (!window.confirm("Stop signing in with " + settings.label + "? Staff then sign in with passwords.")) return;
        await SR.api("DELETE", "/settings/sso");
        SR.toast("Signing in with " + settings.label + " is off.");
        await reload();
      });
      actions.append(test, " ", off);
    }
    const routing = settings.configured ? el("p", { class: "note", id: "sso-routing" },
      "The sign-in screen offers it for addresses at " + ((settings.routed_domains || []).join(", ") || "no domain") +
      " (a domain where an admin's own address is verified). For staff at your other domains, share this link: ",
      el("code", {}, settings.sign_in_link)) : "";
    return el("section", { id: "sso", "aria-labelledby": "sso-title" },
      el("h3", { id: "sso-title" }, "Sign-in with your school's accounts"),
      el("p", { class: "note" }, settings.configured ? "Staff sign in with " + settings.label + "." :
        "Let staff sign in with their Microsoft 365 or Google Workspace account instead of another password."),
      notice || "", form, routing, actions);
  };
})();

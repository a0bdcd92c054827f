// schoolroll console: Administration. The permissions in words (user_groups.js),
// the school's settings (name, timezone, leavers, the school day, two-factor
// sign-in, idle time-out), sign-in with the school's accounts (sso.js), the API
// clients (api_clients.js) and the audit log in sentences (audit_log.js).
(function () {
  "use strict";
  const el = SR.el;
  const scroll = (table, label) => SR.scrollRegion(table, label);

  // An API error whose fields name a list's items ("require_mfa_for.0", "require_mfa_for[0]")
  // is shown beside the list: one message per field, the item messages joined.
  function listFieldErrors(e) {
    if (!e || !e.data || !Array.isArray(e.data.errors)) return e;
    const byField = {};
    e.data.errors = e.data.errors.reduce((out, x) => {
      const field = String(x.field || "").replace(/(\.\d+|\[\d+\]).*$/, "");
      if (byField[field]) byField[field].message += " " + x.message;
      else { byField[field] = Object.assign({}, x, { field }); out.push(byField[field]); }
      return out;
    }, []);
    return e;
  }

  // Account settings: which user groups must use two-factor sign-in, and how long
  // an unused session lasts. me: who is saving (their own group may become required).
  function accountFields(groups, settings, me) {
    const required = settings.require_mfa_for || [];
    const warning = el("p", { class: "notice", id: "require_mfa_for-warning", role: "status", hidden: true });
    const boxes = groups.items.map((g) => el("input", { type: "checkbox", name: "require_mfa_for", value: g.name,
      checked: required.indexOf(g.name) >= 0 }));
    const warn = () => {
      const own = boxes.find((b) => b.value === me.user_group);
      const goes = !!own && own.checked && !me.mfa_enabled;
      warning.hidden = !goes;
      warning.textContent = goes ? "You are in " + me.user_group + " and have not set up two-factor sign-in yet: " +
        "saving will send you to set it up (you need an authenticator app on your phone), and nothing else is " +
        "in reach until you have." : "";
    };
    boxes.forEach((b) => b.addEventListener("change", warn));
    warn();
    const mfa = el("fieldset", { class: "choices", id: "require_mfa_for", "aria-describedby": "require_mfa_for-help require_mfa_for-error" },
      el("legend", {}, "Require two-factor sign-in for"),
      el("p", { class: "note", id: "require_mfa_for-help" }, "Members of the groups ticked sign in with their password " +
        "and a code from an authenticator app. Anyone without it set up is asked to set it up before anything else."),
      el("div", { class: "choice-list" }, boxes.map((b, i) => el("label", { class: "choice" }, b, groups.items[i].name))),
      el("p", { class: "field-error", id: "require_mfa_for-error", role: "alert" }), warning);
    const idle = SR.field("idle_minutes", "Sign people out after this many minutes without use", "number",
      { value: settings.idle_minutes, required: true, step: 1, inputmode: "numeric", class: "short",
        "aria-describedby": "idle_minutes-help idle_minutes-error" });
    idle.insertBefore(el("p", { class: "note", id: "idle_minutes-help" }, "From 15 to 480 (8 hours)."),
      idle.querySelector(".field-error"));
    return [mfa, idle];
  }

  SR.screen("admin", {
    title: "Administration", nav: true, visible: () => SR.can("manage_settings"),
    render: async function (box, args) {
      const me = SR.me;
      localStorage.setItem("settings-reviewed:" + me.school.id, "yes");
      const [groups, settings, audit] = await Promise.all([
        SR.api("GET", "/user-groups"), SR.api("GET", "/settings"), SR.api("GET", "/audit?limit=20")]);
      const grid = SR.permissionsEditor(groups, SR.refresh);
      const settingsForm = SR.form("School settings", [
        SR.field("name", "School name", "text", { value: settings.name, required: true }),
        SR.field("timezone", "Timezone", "text", { value: settings.timezone, required: true }),
        el("div", { class: "field" }, el("label", {}, el("input", { type: "checkbox", name: "mark_leavers", checked: settings.mark_leavers }),
          " Mark pupils missing from a full S3 drop as leavers")),
        SR.schoolDayFields(settings),
        el("h3", {}, "Signing in"),
        accountFields(groups, settings, me),
      ], "Save settings", async (v, form) => {
        const requireMfaFor = Array.from(form.querySelectorAll('input[name="require_mfa_for"]:checked')).map((b) => b.value);
        try {
          await SR.api("PATCH", "/settings", { name: v.name, timezone: v.timezone, mark_leavers: v.mark_leavers === "on",
            require_mfa_for: requireMfaFor, idle_minutes: Number(v.idle_minutes), day_ends: v.day_ends,
            periods: SR.readPeriods(v.periods) });
        } catch (e) { throw listFieldErrors(e); }
        SR.me = null; SR.toast("Settings saved.");
        // Their own group is now required and they have no second factor: set it up first.
        if (requireMfaFor.indexOf(me.user_group) >= 0 && !me.mfa_enabled) SR.go("#/account");
      });
      const log = SR.auditLog(audit.items);
      const clients = el("div");
      const reloadClients = async (notice) => {
        const section = SR.apiClientsSection(await SR.api("GET", "/clients"), reloadClients);
        if (notice) section.insertBefore(notice, section.children[2]);
        clients.replaceChildren(section);
      };
      const sso = el("div");
      const reloadSso = async () => {
        const code = sessionStorage.getItem("sso-test");
        sessionStorage.removeItem("sso-test");
        let notice = null;
        if (code) {
          try { notice = await SR.ssoTestResult(code); } catch (e) { notice = el("p", { class: "error", role: "alert" }, e.message); }
        }
        sso.replaceChildren(SR.ssoSection(await SR.api("GET", "/settings/sso"), reloadSso, notice));
        if (notice) sso.scrollIntoView();
      };
      box.replaceChildren(el("h2", { id: "screen-title" }, "Administration"), grid,
        settingsForm, sso, clients, scroll(log, "Audit log"));
      await Promise.all([reloadClients(), reloadSso()]);
      // From the getting-started list: straight to the two-factor choices.
      if (args && args[0] === "two-factor") {
        const first = settingsForm.querySelector('input[name="require_mfa_for"]');
        settingsForm.querySelector("#require_mfa_for").scrollIntoView();
        if (first) first.focus();
      }
    },
  });
})();

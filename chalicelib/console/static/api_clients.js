// schoolroll console: API clients (Administration). The school's other software
// reads the roster with one of these, never a person's password: each has a
// name, what it may read, and when it was last used; its secret is shown once.
// And the whole school as a OneRoster 1.2 CSV bundle, for a system that takes files.
(function () {
  "use strict";
  const el = SR.el;
  const SCOPES = [
    ["roster.read", "Pupils, staff and user groups"],
    ["groups.read", "Every group, its members and staff, and the groups a pupil or machine is in"],
    ["oneroster.read", "The roster through OneRoster 1.2 (learning platforms, SDS)"],
    ["oneroster.demographics", "Pupils' birth dates and sex through OneRoster"],
    ["changes.read", "The change feed: everything changed since it last asked"],
  ];
  const words = (scope) => (SCOPES.find((s) => s[0] === scope) || [scope, scope])[1];

  function secretShown(made) {
    return el("div", { class: "notice", role: "status", id: "client-secret" },
      el("p", {}, "“" + made.name + "” is made. Copy its secret into the other system now: it is shown only this once."),
      el("p", {}, "Client id: ", el("code", {}, made.client_id)),
      el("p", {}, "Client secret: ", el("code", {}, made.client_secret)),
      el("p", { class: "note" }, "The other system asks POST /api/oauth/token for an hour's token with these (OAuth 2.0 client credentials)."));
  }

  function row(client, reload) {
    const revoke = el("button", { type: "button", class: "secondary", onclick: async () => {
      if (!window.confirm("Revoke “" + client.name + "”? It stops reading the roster at once.")) return;
      await SR.api("DELETE", "/clients/" + encodeURIComponent(client.client_id));
      SR.toast("“" + client.name + "” is revoked.");
      reload();
    } }, "Revoke");
    return el("tr", {}, el("td", {}, client.name), el("td", {}, client.scopes.map(words).join("; ")),
      el("td", {}, client.last_used_at ? SR.schoolDate(client.last_used_at) + " " + SR.schoolTime(client.last_used_at) : "Never"),
      el("td", {}, revoke));
  }

  // The section: the school's clients, and a form to make one.
  SR.apiClientsSection = function (clients, reload) {
    const boxes = SCOPES.map(([scope, what]) => el("label", { class: "choice" },
      el("input", { type: "checkbox", name: "scopes", value: scope }), " " + what));
    const shown = el("div");
    const form = SR.form(null, [
      SR.field("client_name", "Name (what it is)", "text", { required: true, maxlength: 100 }),
      el("fieldset", { class: "choices", id: "scopes" }, el("legend", {}, "It may read"),
        el("div", { class: "choice-list" }, boxes), el("p", { class: "field-error", id: "scopes-error", role: "alert" })),
    ], "Make API client", async (v, f) => {
      const scopes = Array.from(f.querySelectorAll('input[name="scopes"]:checked')).map((b) => b.value);
      let made;
      try { made = await SR.api("POST", "/clients", { name: v.client_name, scopes }); } catch (e) {
        if (e.data && e.data.errors) e.data.errors.forEach((x) => { if (x.field === "name") x.field = "client_name"; });
        throw e;
      }
      await reload(secretShown(made));
    });
    const table = clients.items.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Name"),
      el("th", {}, "May read"), el("th", {}, "Last used"), el("th", {}, ""))),
    el("tbody", {}, clients.items.map((c) => row(c, reload)))) : el("p", { class: "note" }, "No API clients yet.");
    // The whole school as a OneRoster 1.2 CSV bundle (a zip), for a system that takes files, not an API.
    const bundle = el("button", { type: "button", class: "secondary" }, "Export as a OneRoster bundle (zip)");
    bundle.addEventListener("click", async () => {
      bundle.disabled = true;
      try {
        const made = await SR.api("GET", "/exports/oneroster?link=json");
        const link = el("a", { href: made.url, download: made.filename });
        document.body.append(link); link.click(); link.remove();
      } catch (e) { SR.toast(e.message); }
      finally { bundle.disabled = false; }
    });
    return el("section", { id: "api-clients", "aria-labelledby": "api-clients-title" },
      el("h2", { id: "api-clients-title" }, "API clients"),
      el("p", { class: "note" }, "For the school's other software (classroom monitoring, a learning platform): it reads, never changes."),
      shown, table, form, el("p", {}, bundle));
  };
})();

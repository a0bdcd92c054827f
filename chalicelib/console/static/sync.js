// The "Sync & year" screen (manage_settings): how drops sync (leavers,
// holds, reports), how long leavers are kept, and the academic-year
// rollover: preview, apply now or on a day, cancel, undo within 14 days.
(function () {
  "use strict";
  const el = SR.el;

  function select(id, label, options, value, help) {
    return el("div", { class: "field" }, el("label", { for: id }, label),
      el("select", { id, name: id }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))),
      help ? el("p", { class: "note" }, help) : null,
      el("p", { class: "field-error", id: id + "-error", role: "alert" }));
  }

  function number(id, label, value, help) {
    const f = SR.field(id, label, "number", { value: value === null ? "" : value, step: 1, inputmode: "numeric", class: "short" });
    if (help) f.insertBefore(el("p", { class: "note" }, help), f.querySelector(".field-error"));
    return f;
  }

  const YEARS = [["", "Not set"]].concat(["N1", "N2", "R"].concat(Array.from({ length: 14 }, (_, i) => String(i + 1)))
    .map((y) => [y, /^\d+$/.test(y) ? "Year " + y : y]));

  function syncForm(settings) {
    return SR.form("Keeping the roster in sync", [
      el("div", { class: "field" }, el("label", {}, el("input", { type: "checkbox", name: "mark_leavers", checked: settings.mark_leavers }),
        " Drops are full files: mark pupils (and staff) missing from one as leavers")),
      number("leaver_threshold", "Hold a drop that would mark more than this % as leavers", settings.leaver_threshold),
      number("update_threshold", "Hold a drop that would change more than this % of records", settings.update_threshold),
      select("drop_mode", "Drops", [["auto", "Apply unless held"], ["review", "Hold every drop for a person to approve"]], settings.drop_mode),
      select("sync_report", "Email the admins after each drop", [["problems_only", "Only when something needs them"],
        ["always", "Always"], ["never", "Never"]], settings.sync_report),
      number("keep_leavers_years", "Erase leavers this many years after they left", settings.keep_leavers_years,
        "Empty keeps them for ever. The audit log keeps a record without their name."),
      select("final_year", "Pupils leave from", YEARS, settings.final_year || "", "The last year group of your school (6 for a primary, 11 or 13 for a secondary)."),
      el("div", { class: "field" }, el("label", {}, el("input", { type: "checkbox", name: "keep_registration_groups", checked: settings.keep_registration_groups }),
        " Keep registration groups at the rollover")),
    ], "Save", async (v) => {
      await SR.api("PATCH", "/settings", {
        mark_leavers: v.mark_leavers === "on", leaver_threshold: Number(v.leaver_threshold),
        update_threshold: Number(v.update_threshold), drop_mode: v.drop_mode, sync_report: v.sync_report,
        keep_leavers_years: v.keep_leavers_years === "" ? null : Number(v.keep_leavers_years),
        final_year: v.final_year || null, keep_registration_groups: v.keep_registration_groups === "on" });
      SR.toast("Sync settings saved.");
    });
  }

  function previewTable(p) {
    const rows = Object.entries(p.moves).map(([k, n]) => el("tr", {}, el("td", {}, k.replace("→", " → ")), el("td", {}, n)))
      .concat(Object.entries(p.leaving).map(([y, n]) => el("tr", {}, el("td", {}, y + " → leave"), el("td", {}, n))));
    return el("div", { id: "rollover-preview" },
      el("table", {}, el("caption", {}, "Into " + p.academic_year + ": " + p.pupils + " pupils, " + p.leavers + " leaving"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Year group"), el("th", { scope: "col" }, "Pupils"))),
        el("tbody", {}, rows)),
      el("p", {}, p.memberships_ending + " teacher-group memberships of leavers end" +
        (p.memberships.length ? ": " + p.memberships.map((m) => m.pupil + " (" + m.group + ")").join(", ") : ".")));
  }

  function rolloverList(items, refresh) {
    if (!items.length) return el("p", { class: "note" }, "No rollover yet.");
    return el("ul", { id: "rollovers" }, items.map((r) => el("li", {},
      r.academic_year + ": " + r.status + (r.status === "scheduled" ? " for " + r.on : "") +
      (r.counts ? " (" + r.counts.moved + " moved up, " + r.counts.left + " left)" : "") +
      (r.undo && r.undo.changed_since.length ? "; left as they are (changed since): " + r.undo.changed_since.length : ""),
      r.status === "scheduled" ? el("button", { type: "button", onclick: () => act("POST", "/rollover/cancel", null, "Cancelled.", refresh) }, "Cancel") : null,
      r.status === "applied" ? el("button", { type: "button", onclick: () => {
        if (confirm("Put every pupil back as they were before this rollover?")) act("POST", "/rollover/undo", null, "Undoing…", refresh);
      } }, "Undo (until " + (r.undo_until || "").slice(0, 10) + ")") : null)));
  }

  async function act(method, path, body, done, refresh) {
    try { await SR.api(method, path, body); SR.toast(done); refresh(); } catch (e) { SR.toast(e.message); }
  }

  function rolloverPanel(items, refresh) {
    const out = el("div", { id: "rollover-out", "aria-live": "polite" });
    const day = el("input", { type: "date", id: "rollover-on", "aria-label": "Roll over on" });
    const preview = el("button", { type: "button", onclick: async () => {
      try { out.replaceChildren(previewTable(await SR.api("POST", "/rollover", { dry_run: true }))); }
      catch (e) { out.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
    } }, "Preview");
    const now = el("button", { type: "button", onclick: () => {
      if (confirm("Move every pupil up a year now? Leavers leave their groups. You can undo it for 14 days."))
        act("POST", "/rollover", {}, "Rollover started.", refresh);
    } }, "Roll over now");
    const later = el("button", { type: "button", onclick: () => act("POST", "/rollover", { on: day.value }, "Rollover scheduled.", refresh) }, "Schedule");
    return el("section", { "aria-labelledby": "rollover-title" }, el("h2", { id: "rollover-title" }, "Academic-year rollover"),
      el("p", { class: "note" }, "Every pupil moves up a year group; pupils in the final year leave."),
      el("div", { class: "actions" }, preview, now, day, later), out, rolloverList(items, refresh));
  }

  SR.screen("sync", {
    title: "Sync & year", nav: true, visible: () => SR.can("manage_settings"),
    render: async function render(box) {
      const [settings, rollovers] = await Promise.all([SR.api("GET", "/settings"), SR.api("GET", "/rollover")]);
      box.replaceChildren(el("h2", { id: "screen-title" }, "Sync & year"), syncForm(settings),
        rolloverPanel(rollovers.items, () => render(box)));
    },
  });
})();

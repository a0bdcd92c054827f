// schoolroll console: a roster bundle in the import wizard (issue 18).
// The mapping step asks which school of the bundle to import and how its
// grades read; the review shows its staff, pupils and classes together.
(function () {
  "use strict";
  const el = SR.el;
  const plural = SR.plural;
  const FLAVOURS = { "oneroster_1.0": "OneRoster 1.0", "oneroster_1.1": "OneRoster 1.1",
    "oneroster_1.2": "OneRoster 1.2", "sds_v2.1": "School Data Sync v2" };
  const GRADES = [["year", "As UK years: 01–13 are Years 1–13, KG is Reception, PK is Nursery 2"],
    ["us_grade", "As US grades: the year is the grade + 1 (KG is Year 1, PK is Reception)"]];

  function radio(name, value, label, checked) {
    const id = name + "-" + value.replace(/[^A-Za-z0-9_-]/g, "_");
    return el("div", { class: "choice" }, el("input", { type: "radio", name, id, value, checked }),
      el("label", { for: id }, label));
  }

  // w: the wizard's {step, poll, alive, showImport}
  SR.bundleChoice = function (imp, w) {
    const info = imp.bundle || {};
    const chosen = imp.mapping || imp.suggested_mapping || {};
    const error = el("p", { class: "error", role: "alert" });
    const status = el("p", { role: "status" });
    const orgs = el("fieldset", { class: "bundle-org" }, el("legend", {}, "Which school in this bundle is yours?"),
      (info.orgs || []).map((o) => radio("org", o.sourcedId, o.name + " (" + plural(o.users, "person", "people") + ")",
        chosen.org === o.sourcedId)));
    const grades = el("fieldset", { class: "bundle-grades" }, el("legend", {}, "How should we read its grades?"),
      GRADES.map(([value, label]) => radio("grades_as", value, label, (chosen.grades_as || "year") === value)));
    const check = el("button", { type: "button" }, "Check rows");
    check.addEventListener("click", async () => {
      error.textContent = "";
      const org = (orgs.querySelector("input:checked") || {}).value;
      if (!org) { error.textContent = "Choose the school to import."; return; }
      check.disabled = true;
      try {
        await SR.api("PUT", "/imports/" + encodeURIComponent(imp.id) + "/mapping",
          { org, grades_as: grades.querySelector("input:checked").value });
        status.textContent = "Checking rows…";
        const next = await w.poll(imp.id, ["review"], status);
        if (w.alive()) w.showImport(next);
      } catch (e) {
        if (!w.alive()) return;
        error.textContent = e.message; status.textContent = ""; check.disabled = false;
      }
    });
    w.step(1,
      el("p", {}, (imp.filename || "This zip") + " is a " + (FLAVOURS[info.flavour] || "roster") + " bundle."),
      el("p", { class: "note" }, "Its files: " + (info.files || []).join(", ") + "."),
      orgs, grades, check, status, error);
  };

  // What a bundle's review adds to the wizard's: each part's counts, then its classes.
  SR.bundleReview = function (i) {
    const s = i.summary || {};
    const parts = Object.entries(s.parts || {}).map(([kind, p]) => el("li", {},
      (kind === "staff" ? "Staff" : "Pupils") + ": " + (p.create || 0) + " new, " + (p.update || 0) + " to update, " +
      (p.unchanged || 0) + " unchanged, " + plural(p.errors || 0, "row") + " with problems"));
    const nodes = [el("ul", { class: "bundle-parts" }, parts)];
    const c = s.classes;
    if (c) {
      nodes.push(el("h3", {}, "Classes"),
        c.left_alone ? el("p", { class: "warning", role: "status" }, plural(c.classes, "class", "classes") +
          " in the bundle. " + c.message) :
          el("p", {}, plural(c.classes, "class", "classes") + " (" + c.new + " new" +
            (c.ended ? ", " + c.ended + " no longer in the MIS: they will be ended" : "") + ") with " +
            plural(c.pupils, "pupil enrolment") + ". Each becomes a group of its teachers."),
        el("table", { class: "bundle-classes" },
          el("thead", {}, el("tr", {}, ["Class", "Teachers", "Pupils", ""].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, (c.items || []).map((x) => el("tr", {}, el("th", { scope: "row" }, x.name),
            el("td", {}, String(x.teachers)), el("td", {}, String(x.pupils)), el("td", {}, x.new ? "new" : ""))))),
        c.classes > (c.items || []).length ? el("p", { class: "note" }, "The first " + c.items.length + " are listed.") : "");
    }
    const r = (i.result || {}).classes;
    if (r && r.left_alone) {
      nodes.push(el("p", { class: "warning" }, r.message));
    } else if (r) {
      nodes.push(el("p", { class: "ok" }, "Classes: " + r.created + " made, " + r.updated + " updated, " + r.ended +
        " ended; " + r.members_added + " pupils added and " + r.members_removed + " taken out." +
        (r.pupils_unmatched ? " " + plural(r.pupils_unmatched, "enrolment") + " of pupils not on roll left out." : "")));
    }
    return nodes;
  };
})();

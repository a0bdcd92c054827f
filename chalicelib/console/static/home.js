// Getting started, pupils and staff screens (Administration is admin.js's).
(function () {
  "use strict";
  const SR = window.SR;
  const el = SR.el;

  // ---------------------------------------------------------------- getting started
  // A home for staff who don't run the roster: their groups, what ends soon,
  // and what they can do here, with no link that ends in a permission error.
  async function staffHome(box) {
    const me = SR.me;
    const groups = SR.can("view_roster") || SR.can("view_all_groups") ? (await SR.api("GET", "/groups?mine=true")).items : [];
    const can = [];
    if (SR.can("view_roster")) can.push(["See pupils and staff", "#/pupils"]);
    if (SR.can("create_groups")) can.push(["Make a group and share it with colleagues", "#/groups"]);
    else if (groups.length) can.push(["See the groups shared with you", "#/groups"]);
    can.push(["Your account: password and two-factor sign-in", "#/account"]);
    const mine = groups.length ? el("ul", {}, groups.map((g) => el("li", {},
      el("a", { href: "#/groups/" + encodeURIComponent(g.id) }, g.name), " — " + g.member_count +
      (g.member_count === 1 ? " member" : " members") + (g.role && g.role !== "owner" ? " (you: " + g.role + ")" : "") +
      (g.ends_at ? ", ends " + SR.schoolTime(g.ends_at) : ""))))
      : el("p", { class: "note" }, SR.can("view_roster") ? "None yet." : "Your user group (" + me.user_group + ") can't see " +
        "pupils, so no group of them is shown to you. Ask an admin if you need to.");
    box.replaceChildren(el("h2", { id: "screen-title" }, me.school.name),
      el("h3", {}, "My groups"), mine,
      el("h3", {}, "What you can do here"), el("ul", {}, can.map(([label, href]) => el("li", {}, el("a", { href }, label)))));
  }

  SR.screen("home", {
    title: "Home", nav: true,
    render: async function (box) {
      const me = SR.me;
      if (!SR.can("manage_roster") && !SR.can("manage_settings")) return staffHome(box);
      const admin = SR.can("manage_settings");
      const [pupils, staff, imports, groups, settings] = await Promise.all([
        SR.can("view_roster") ? SR.api("GET", "/pupils?limit=1") : { items: [] },
        SR.can("view_roster") ? SR.api("GET", "/staff?limit=2") : { items: [] },
        SR.can("manage_roster") ? SR.api("GET", "/imports?limit=10") : { items: [] },
        admin ? SR.api("GET", "/user-groups") : { items: [] },
        admin ? SR.api("GET", "/settings") : { require_mfa_for: [] },
      ]);
      const invited = staff.items.some((s) => s.id !== me.user.id);
      const steps = [
        ["Verify your email", me.email_verified, null],
        ["Add pupils", pupils.items.length > 0, "#/import"],
        ["Add staff", invited, "#/import"],
        ["Review settings", localStorage.getItem("settings-reviewed:" + me.school.id) === "yes", "#/admin"],
        ["Invite staff", invited, "#/staff"],
      ];
      // The user groups that can change settings are the ones worth protecting with a
      // second factor; only someone who can change settings can require it.
      if (admin) {
        const holders = groups.items.filter((g) => g.permissions.indexOf("manage_settings") >= 0).map((g) => g.name);
        const required = settings.require_mfa_for || [];
        steps.splice(4, 0, ["Require two-factor sign-in for " + SR.andList(holders),
          holders.every((n) => required.indexOf(n) >= 0), "#/admin/two-factor"]);
      }
      const list = el("ol", { class: "steps" }, steps.map(([label, done, href]) =>
        el("li", { class: done ? "done" : "" }, href && !done ? el("a", { href }, label) : label,
          done ? el("span", { class: "sr-only" }, " (done)") : "")));
      const progress = el("div", { "aria-live": "polite" });
      box.replaceChildren(el("h2", { id: "screen-title" }, me.school.name + ": getting started"), list,
        el("h3", {}, "Nightly sync"), syncHealth(imports.items), el("h3", {}, "Imports"), progress);
      renderImports(progress, imports.items);
      const inFlight = () => imports.items.some((i) => ["uploading", "sniffing", "validating", "committing"].indexOf(i.status) >= 0);
      if (inFlight()) {
        const timer = setInterval(async () => {
          if (!document.body.contains(progress)) return clearInterval(timer);
          const fresh = await SR.api("GET", "/imports?limit=5");
          imports.items = fresh.items;
          renderImports(progress, fresh.items);
          if (!inFlight()) clearInterval(timer);
        }, 1500);
      }
    },
  });

  // Dates as the school writes them (31/01/2015), years as people say them.
  SR.schoolDate = (iso) => (/^\d{4}-\d{2}-\d{2}$/.test(iso || "") ? iso.split("-").reverse().join("/") : iso || "");
  SR.yearName = (y) => (y ? { N1: "Nursery 1", N2: "Nursery 2", R: "Reception" }[y] || "Year " + y : "");
  // A moment in the school's timezone: "2 Dec 2026, 09:14"
  SR.schoolTime = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { timeZone: (SR.me.school.timezone || undefined),
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }) : "");


  // The last file the MIS dropped, and what became of it (held ones wait for a person)
  const DROP_WORDS = { done: "imported", committed: "imported", held: "held for a person to approve",
    failed: "failed", discarded: "discarded" };
  function syncHealth(items) {
    const last = items.find((i) => i.source === "drop");
    const sync = SR.can("manage_settings") ? el("a", { href: "#/sync" }, "Sync & year") : null;
    if (!last) return el("p", { class: "note" }, "No file has come from your MIS yet. ", sync || "", sync ? " says how." : "");
    const word = DROP_WORDS[last.status] || "being read";
    return el("p", { class: last.status === "failed" || last.status === "held" ? "notice" : "" },
      "The last file from your MIS, " + last.filename + " (" + SR.schoolTime(last.created_at) + "), was " + word + ". ",
      last.status === "held" ? el("a", { href: "#/import/" + encodeURIComponent(last.id) }, "Review it") : sync || "");
  }

  function renderImports(box, items) {
    if (!items.length) return box.replaceChildren(el("p", {}, "No imports yet."));
    box.replaceChildren(el("ul", {}, items.map((i) => {
      const label = i.filename + " (" + i.kind + "): " + i.status;
      let detail = "";
      if (i.rows_total && ["sniffing", "validating", "committing"].indexOf(i.status) >= 0) {
        detail = el("progress", { max: i.rows_total, value: i.rows_processed || 0, "aria-label": "Progress of " + i.filename });
      } else if (i.status === "held") {
        detail = el("span", {}, " — " + ((i.hold && i.hold.message) || "waiting for approval") + " ",
          el("a", { href: "#/import/" + encodeURIComponent(i.id) }, "Review it"));
      } else if (i.result) {
        const r = i.result;
        detail = el("span", {}, " — " + SR.importedCount(r) + " imported (" + r.created + " new, " + r.updated + " changed, " +
          r.unchanged + " unchanged" + (r.restored ? ", " + r.restored + " back on roll" : "") + ")" +
          (r.left ? ", " + r.left + " marked as leavers" : "") +
          (r.kept_manual ? ", " + r.kept_manual + " kept (added by hand)" : "") + ", ",
          r.refused ? el("a", { href: "#/import/" + encodeURIComponent(i.id) }, r.refused + " not imported: fix them or download them")
            : "0 not imported");
      } else if (i.error) {
        detail = " — " + i.error.message;
      }
      return el("li", {}, label, detail);
    })));
  }

  // A wide table scrolls inside its own box, so the page never scrolls sideways.
  // a wide table in a region that scrolls sideways by itself (and by keyboard)
  function scroll(table, label) {
    return el("div", { class: "table-scroll", role: "region", "aria-label": label, tabindex: "0" }, table);
  }
  SR.scrollRegion = scroll;

  // ---------------------------------------------------------------- record tables
  // One screen per record kind (pupils, staff): search, filters, paging, add,
  // edit in place (with the version read), delete with confirmation.
  // Optional in def: selects (filters chosen from a list), cell (column id ->
  // function(record) giving the cell's content), rowClass(record),
  // actions(record, reload) (more buttons for a row), remove(record, reload).
  function recordScreen(def) {
    SR.screen(def.name, {
      title: def.title, nav: true, visible: () => SR.can("view_roster"),
      // (args[0]: a name to find, e.g. from the audit log's link)
      render: async function (box, args) {
        const state = { cursors: [null], page: 0, query: {} };
        const tableBox = el("div");
        const selects = (def.selects || []).map(([id, label, options]) => {
          const select = el("select", { id: "filter-" + id, name: "filter-" + id },
            options.map(([value, text]) => el("option", { value }, text)));
          select.addEventListener("change", () => filters.requestSubmit());
          return el("div", { class: "field" }, el("label", { for: "filter-" + id }, label), select);
        });
        const filters = el("form", { class: "toolbar", role: "search" },
          def.filters.map(([id, label]) => SR.field("filter-" + id, label, "search", {})), selects,
          el("button", { type: "submit" }, "Search"));
        filters.addEventListener("submit", (ev) => {
          ev.preventDefault();
          state.query = {};
          def.filters.concat(def.selects || []).forEach(([id]) => {
            const v = filters.querySelector("#filter-" + id).value.trim();
            if (v) state.query[id] = v;
          });
          state.cursors = [null]; state.page = 0; load();
        });
        const addBox = el("div");
        const userGroups = def.fields.some(([, , type]) => type === "usergroup") ? await SR.api("GET", "/user-groups") : null;
        const input = (id, label, type, req) => (type === "usergroup" ? SR.userGroupField(id, label, userGroups, null)
          : SR.field(id, label, type, req ? { required: true } : {}));
        if (SR.can("manage_roster")) {
          const add = SR.form("Add a " + def.singular, def.fields.map(([id, label, type, req]) =>
            input(id, label, type, req)), "Save", async (values, form) => {
            const body = {};
            def.fields.forEach(([id]) => { body[id] = values[id] === "" ? null : values[id]; });
            for (const field of form.querySelectorAll(".user-group-field")) {
              body[field.querySelector("select").name] = await SR.chosenUserGroup(field);
            }
            await SR.api("POST", "/" + def.name, body);
            form.reset();
            SR.toast(def.Singular + " added.");
            state.cursors = [null]; state.page = 0; load();
          });
          addBox.append(el("details", {}, el("summary", {}, "Add a " + def.singular), add));
        }
        // The whole list as CSV (cells a spreadsheet would run as formulas come guarded): the API
        // stores it and gives a short-lived link, which the browser downloads (any size).
        const exportButton = el("button", { type: "button" }, "Export CSV");
        exportButton.addEventListener("click", async () => {
          exportButton.disabled = true;
          try {
            const made = await SR.api("POST", "/exports", { kind: def.name });
            const link = el("a", { href: made.url, download: made.filename });
            document.body.append(link); link.click(); link.remove();
          } catch (e) { SR.toast(e.message); }
          finally { exportButton.disabled = false; }
        });
        box.replaceChildren(el("h2", { id: "screen-title" }, def.title), filters, el("p", {}, exportButton),
          addBox, tableBox);
        if (args && args[0]) { filters.querySelector("#filter-q").value = args[0]; state.query = { q: args[0] }; }

        async function load() {
          const params = new URLSearchParams(Object.assign({ limit: "25" }, state.query));
          if (state.cursors[state.page]) params.set("next", state.cursors[state.page]);
          let data;
          try { data = await SR.api("GET", "/" + def.name + "?" + params); }
          catch (e) { return tableBox.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
          state.cursors[state.page + 1] = data.next;
          const rows = data.items.map((r) => row(r));
          tableBox.replaceChildren(scroll(
            el("table", { class: "cards" }, el("caption", {}, def.title + ", page " + (state.page + 1)),
              el("thead", {}, el("tr", {}, def.columns.map(([, label]) => el("th", { scope: "col" }, label)),
                el("th", { scope: "col" }, "Actions"))),
              el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: def.columns.length + 1 }, "Nobody here yet.")))),
            def.title),
            el("div", { class: "toolbar" },
              el("button", { type: "button", class: "secondary", disabled: state.page === 0, onclick: () => { state.page -= 1; load(); } }, "Previous page"),
              el("button", { type: "button", class: "secondary", disabled: !data.next, onclick: () => { state.page += 1; load(); } }, "Next page")));
        }

        function row(r) {
          // (data-label: each cell's heading, shown beside it when rows are cards under 700 px)
          const tr = el("tr", { class: def.rowClass ? def.rowClass(r) : null },
            def.columns.map(([id, label]) => el("td", { "data-label": label }, cell(r, id))));
          const actions = el("td", { "data-label": "Actions" });
          if (SR.can("manage_roster")) {
            actions.append(
              el("button", { type: "button", class: "secondary", "aria-label": "Edit " + def.label(r), onclick: () => edit(tr, r) }, "✎"),
              " ",
              el("button", { type: "button", class: "danger", "aria-label": "Delete " + def.label(r), onclick: () => remove(r) }, "Delete"));
          }
          if (def.actions) def.actions(r, load).forEach((b) => actions.append(" ", b));
          tr.append(actions);
          return tr;
        }

        function edit(tr, r) {
          const inputs = {};
          const cells = def.columns.map(([id, label]) => {
            const editable = def.fields.some(([f]) => f === id);
            if (!editable) return el("td", { "data-label": label }, cell(r, id));
            if (def.fields.find(([f]) => f === id)[2] === "usergroup") {
              inputs[id] = SR.userGroupField(id, label, userGroups, r[id], label + " of " + def.label(r));
              return el("td", { "data-label": label }, inputs[id]);
            }
            inputs[id] = el("input", { value: r[id] || "", "aria-label": label + " of " + def.label(r), id: id });
            return el("td", { "data-label": label }, inputs[id], el("p", { class: "field-error", id: id + "-error", role: "alert" }));
          });
          const error = el("p", { class: "error", role: "alert" });
          const save = el("button", { type: "button", onclick: async () => {
            const body = { version: r.version };
            try {
              for (const [id, input] of Object.entries(inputs)) {
                body[id] = input.matches(".user-group-field") ? await SR.chosenUserGroup(input)
                  : input.value === "" ? null : input.value;
              }
              await SR.api("PATCH", "/" + def.name + "/" + r.id, body); SR.toast("Saved."); load();
            }
            catch (e) { error.textContent = SR.showFieldErrors(tr, e) ? "Please correct the fields marked." : e.message; }
          } }, "Save");
          const cancel = el("button", { type: "button", class: "secondary", onclick: load }, "Cancel");
          tr.replaceChildren(...cells, el("td", {}, save, " ", cancel, error));
          const first = Object.values(inputs)[0];
          if (first) first.focus();
        }

        function cell(r, id) {
          if (def.cell && def.cell[id]) return def.cell[id](r);
          return r[id] === null || r[id] === undefined ? "" : String(r[id]);
        }

        async function remove(r) {
          if (def.remove) return def.remove(r, load);
          if (!window.confirm("Delete " + def.label(r) + "? This cannot be undone.")) return;
          try { await SR.api("DELETE", "/" + def.name + "/" + r.id); SR.toast("Deleted."); load(); }
          catch (e) { SR.toast(e.message); }
        }
        await load();
      },
    });
  }

  recordScreen({
    name: "pupils", title: "Pupils", singular: "pupil", Singular: "Pupil",
    label: (p) => p.first_name + " " + p.surname,
    filters: [["q", "Name starts with"], ["year_group", "Filter by year group"], ["registration_group", "Filter by registration group"]],
    columns: [["first_name", "First name"], ["surname", "Surname"], ["date_of_birth", "Date of birth"],
      ["gender", "Gender"], ["year_group", "Year"], ["registration_group", "Reg group"], ["upn", "UPN"], ["status", "Status"]],
    fields: [["first_name", "First name", "text", true], ["surname", "Surname", "text", true],
      ["date_of_birth", "Date of birth (dd/mm/yyyy)", "text", true], ["gender", "Gender (M/F)", "text", false],
      ["year_group", "Year group", "text", true], ["registration_group", "Registration group", "text", false],
      ["upn", "UPN (optional)", "text", false]],
    cell: {
      date_of_birth: (p) => SR.schoolDate(p.date_of_birth),
      year_group: (p) => SR.yearName(p.year_group),
    },
  });

  recordScreen({
    name: "staff", title: "Staff", singular: "staff member", Singular: "Staff member",
    label: (s) => s.first_name + " " + s.surname,
    filters: [["q", "Name starts with"], ["user_group", "Filter by user group"]],
    selects: [["status", "Filter by status", [["", "Any status"], ["active", "Active"], ["invited", "Invited"], ["disabled", "Disabled"]]]],
    columns: [["first_name", "First name"], ["surname", "Surname"], ["email", "Email"], ["job_role", "Job role"],
      ["user_group", "User group"], ["status", "Status"], ["mfa_enabled", "Two-factor"]],
    fields: [["first_name", "First name", "text", true], ["surname", "Surname", "text", true],
      ["email", "Email", "email", true], ["job_role", "Job role", "text", false], ["user_group", "User group", "usergroup", false]],
    cell: {
      user_group: (s) => (s.user_group_known === false
        ? el("span", { class: "warn" }, s.user_group + " (not one of your user groups: Teachers' rights)") : s.user_group),
      status: (s) => el("span", { class: "badge badge-" + s.status }, STATUS[s.status] || s.status || ""),
      mfa_enabled: (s) => (s.mfa_enabled ? "On" : "Off"),
    },
    rowClass: (s) => (s.status === "disabled" ? "disabled" : null),
    actions: staffActions,
    remove: removeStaff,
  });

  // ---- staff accounts: disable / enable, reset two-factor, delete (offering disable first)
  const STATUS = { active: "Active", invited: "Invited", disabled: "Disabled" };
  const staffName = (s) => s.first_name + " " + s.surname;

  async function staffAction(s, action, done, reload) {
    try { await SR.api("POST", "/staff/" + encodeURIComponent(s.id) + "/" + action); SR.toast(done); reload(); }
    catch (e) { SR.toast(e.message); }
  }

  function staffActions(s, reload) {
    const buttons = [];
    const name = staffName(s);
    if (SR.can("manage_roster")) {
      if (s.status === "disabled") {
        buttons.push(el("button", { type: "button", class: "secondary", "aria-label": "Enable " + name,
          onclick: () => staffAction(s, "enable", name + " can sign in again.", reload) }, "Enable"));
      } else {
        buttons.push(el("button", { type: "button", class: "secondary", "aria-label": "Disable " + name, onclick: () => {
          if (!window.confirm("Disable " + name + "? They are signed out everywhere and cannot sign in until " +
            "someone enables them again. Their records and history stay.")) return;
          staffAction(s, "disable", name + " is disabled.", reload);
        } }, "Disable"));
      }
    }
    if (SR.can("manage_settings") && s.mfa_enabled) {
      buttons.push(el("button", { type: "button", class: "secondary", "aria-label": "Reset two-factor for " + name, onclick: () => {
        if (!window.confirm("Reset two-factor sign-in for " + name + "? Their authenticator app and recovery codes stop " +
          "working; they set two-factor up again (only do this once you are sure it is really them asking).")) return;
        staffAction(s, "mfa-reset", "Two-factor sign-in reset for " + name + ".", reload);
      } }, "Reset two-factor"));
    }
    return buttons;
  }

  // Delete is for mistakes (a record added twice); someone leaving is disabled,
  // which keeps their history and can be undone. The dialog offers that first.
  function removeStaff(s, reload) {
    const name = staffName(s);
    const error = el("p", { class: "error", role: "alert" });
    const d = el("dialog", { "aria-label": "Delete " + name });
    const run = async (path, method, done) => {
      error.textContent = "";
      try { await SR.api(method, path); d.close(); SR.toast(done); reload(); } catch (e) { error.textContent = e.message; }
    };
    const disable = s.status === "disabled" ? null : el("button", { type: "button", onclick: () =>
      run("/staff/" + encodeURIComponent(s.id) + "/disable", "POST", name + " is disabled.") }, "Disable instead");
    d.append(el("h2", {}, "Delete " + name + "?"),
      el("p", {}, s.status === "disabled" ? name + " is disabled. Deleting removes them for good and cannot be undone."
        : "Disabling keeps their history and can be undone; delete anyway? Deleting cannot be undone."),
      error,
      el("div", { class: "toolbar" }, disable,
        el("button", { type: "button", class: "danger", onclick: () =>
          run("/staff/" + encodeURIComponent(s.id), "DELETE", "Deleted.") }, "Delete anyway"),
        el("button", { type: "button", class: "secondary", onclick: () => d.close() }, "Cancel")));
    d.addEventListener("close", () => d.remove());
    document.body.append(d);
    d.showModal();
  }
})();

// User groups in words people use: a staff member's user group is chosen from
// the school's (a typo can't hand out Teachers' rights), a new one is made on
// purpose with its rights shown first, and permission changes are a draft,
// summed up in sentences and confirmed before they are saved, with an undo.
(function () {
  "use strict";
  const SR = window.SR;
  const el = SR.el;
  const NEW = "__new__";
  let fields = 0;  // (each field's own ids)

  // [short words, what it allows] for each permission the API has
  SR.PERMISSION_WORDS = {
    view_roster: ["see pupils and staff", "Every pupil's name, year, registration group and date of birth; the staff list."],
    manage_roster: ["add and change pupils and staff", "Add, edit, import and delete pupils and staff."],
    manage_settings: ["change settings and permissions", "User groups and what they may do, anyone's user group, school settings, the audit log."],
    create_groups: ["make groups", "Make their own monitoring groups and share them."],
    add_any_user: ["add anyone to a group", "Add any pupil or member of staff to a group, not only those in groups they see."],
    view_all_groups: ["see every group", "Every group, private ones and All staff included."],
  };
  const words = (p) => (SR.PERMISSION_WORDS[p] || [p])[0];
  const fold = (s) => String(s || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().split(/\s+/).filter(Boolean).join(" ");

  function rightsLine(permissions) {
    return permissions.length ? "can " + SR.andList(permissions.map(words)) : "can sign in and see nothing of pupils";
  }

  // The user group a form chose: a new one is made first (its rights as shown).
  SR.chosenUserGroup = async function (field) {
    const select = field.querySelector("select");
    if (select.value !== NEW) return select.value;
    const name = field.querySelector(".new-group-name").value.trim();
    const permissions = Array.from(field.querySelectorAll(".new-group-rights input:checked")).map((b) => b.value);
    const group = await SR.api("PUT", "/user-groups/" + encodeURIComponent(name), { permissions });
    return group.name;
  };

  // A <select> of the school's user groups (with what each may do), and for
  // holders of manage_settings "New user group…" with its rights to tick.
  SR.userGroupField = function (id, label, groups, current, labelFor) {
    const known = groups.items.map((g) => g.name);
    const options = groups.items.map((g) => el("option", { value: g.name, selected: g.name === current },
      g.name + " (" + rightsLine(g.permissions) + ")"));
    if (current && known.indexOf(current) < 0) {
      options.unshift(el("option", { value: current, selected: true }, current + " (not one of your user groups: Teachers' rights)"));
    }
    if (SR.can("manage_settings")) options.push(el("option", { value: NEW }, "New user group…"));
    const select = el("select", { id, name: id, "aria-label": labelFor || null, "aria-describedby": id + "-error" }, options);
    if (!current) select.value = known.indexOf("Teachers") >= 0 ? "Teachers" : known[0];
    const rights = el("fieldset", { class: "new-group-rights" }, el("legend", {}, "What the new group may do"),
      Object.keys(SR.PERMISSION_WORDS).filter((p) => groups.permissions.some((q) => q.name === p)).map((p) =>
        el("label", { class: "choice" }, el("input", { type: "checkbox", value: p }), " " + SR.PERMISSION_WORDS[p][0] +
          ": " + SR.PERMISSION_WORDS[p][1])));
    const own = id + "-new-" + (++fields);  // (an add form and an edit row may both be open)
    const name = el("input", { class: "new-group-name", id: own, "aria-describedby": own + "-note" });
    const note = el("p", { class: "note", id: own + "-note", role: "status" });
    const fresh = el("div", { class: "new-group", hidden: true },
      el("label", { for: own }, "Name of the new user group"), name, rights, note);
    const field = el("div", { class: "field user-group-field" }, labelFor ? null : el("label", { for: id }, label), select, fresh,
      el("p", { class: "field-error", id: id + "-error", role: "alert" }));
    const explain = () => {
      const same = known.find((k) => fold(k) === fold(name.value));
      const chosen = Array.from(rights.querySelectorAll("input:checked")).map((b) => b.value);
      note.textContent = same ? "That is the " + same + " group: choose it above, or give the new group a name of its own."
        : (name.value.trim() || "The new group") + " " + rightsLine(chosen) + ".";
    };
    select.addEventListener("change", () => {
      fresh.hidden = select.value !== NEW;
      name.required = select.value === NEW;
      if (!fresh.hidden) { explain(); name.focus(); }
    });
    name.addEventListener("input", explain);
    rights.addEventListener("change", explain);
    return field;
  };

  // ---- the permission grid as a draft
  function sentences(groups, draft) {
    const out = [];
    groups.items.forEach((g) => {
      const now = draft[g.name];
      Object.keys(SR.PERMISSION_WORDS).forEach((p) => {
        const had = g.permissions.indexOf(p) >= 0, will = now.indexOf(p) >= 0;
        if (had === will) return;
        const risky = will && (p === "view_roster" || p === "manage_settings" || p === "view_all_groups");
        out.push({ group: g.name, risky, text: g.name + (will ? " will be able to " : " will no longer be able to ") +
          words(p) + (p === "view_roster" && will ? ": every pupil's name, year and date of birth" : "") + "." });
      });
    });
    return out;
  }

  // A table of user groups × permissions, in words; ticks make a draft, saved
  // after a summary and a confirmation; the last save can be undone.
  SR.permissionsEditor = function (groups, reload) {
    const perms = Object.keys(SR.PERMISSION_WORDS).filter((p) => groups.permissions.some((q) => q.name === p));
    const draft = {};
    groups.items.forEach((g) => { draft[g.name] = g.permissions.slice(); });
    const summary = el("div", { class: "draft-summary", "aria-live": "polite" });
    const save = el("button", { type: "button", disabled: true }, "Save permission changes…");
    const discard = el("button", { type: "button", class: "secondary", disabled: true }, "Discard changes");
    const grid = el("table", {}, el("caption", {}, "What each user group may do"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "User group"),
        perms.map((p) => el("th", { scope: "col" }, el("span", {}, SR.PERMISSION_WORDS[p][0]),
          el("span", { class: "note" }, SR.PERMISSION_WORDS[p][1]))))),
      el("tbody", {}, groups.items.map((g) => el("tr", {}, el("th", { scope: "row" }, g.name),
        perms.map((p) => el("td", {}, el("input", { type: "checkbox", "aria-label": g.name + " can " + words(p),
          checked: g.permissions.indexOf(p) >= 0, "data-group": g.name, "data-permission": p })))))));
    const changes = () => sentences(groups, draft);
    const show = () => {
      const list = changes();
      save.disabled = discard.disabled = !list.length;
      summary.replaceChildren(list.length ? el("div", {}, el("h3", {}, "Not saved yet"),
        el("ul", {}, list.map((s) => el("li", { class: s.risky ? "risky" : "" }, s.text)))) : "");
    };
    grid.addEventListener("change", (ev) => {
      const box = ev.target, name = box.dataset.group, p = box.dataset.permission;
      draft[name] = perms.filter((q) => (q === p ? box.checked : draft[name].indexOf(q) >= 0))
        .concat(draft[name].filter((q) => perms.indexOf(q) < 0));
      show();
    });
    discard.addEventListener("click", () => reload());
    save.addEventListener("click", () => confirmSave(groups, draft, changes(), reload));
    return el("section", { "aria-labelledby": "permissions-title" }, el("h3", { id: "permissions-title" }, "Permissions"),
      el("div", { class: "table-scroll", role: "region", "aria-label": "Permissions", tabindex: "0" }, grid),
      summary, el("div", { class: "toolbar" }, save, discard), undoBar(reload));
  };

  let lastSaved = null;  // {group name: permissions before} of the last save, for its undo

  function undoBar(reload) {
    if (!lastSaved) return el("div");
    const names = Object.keys(lastSaved);
    return el("div", { class: "toolbar" }, el("button", { type: "button", class: "secondary", onclick: async () => {
      const before = lastSaved;
      lastSaved = null;
      try {
        for (const name of names) await SR.api("PUT", "/user-groups/" + encodeURIComponent(name), { permissions: before[name] });
        SR.toast("Undone: " + SR.andList(names) + " as before.");
      } catch (e) { SR.toast(e.message); }
      reload();
    } }, "Undo the last permission change (" + SR.andList(names) + ")"));
  }

  function confirmSave(groups, draft, list, reload) {
    const error = el("p", { class: "error", role: "alert" });
    const d = el("dialog", { "aria-labelledby": "confirm-permissions-title" });
    const changed = [...new Set(list.map((s) => s.group))];
    const ok = el("button", { type: "button", onclick: async () => {
      const before = {};
      groups.items.forEach((g) => { if (changed.indexOf(g.name) >= 0) before[g.name] = g.permissions.slice(); });
      try {
        for (const name of changed) await SR.api("PUT", "/user-groups/" + encodeURIComponent(name), { permissions: draft[name] });
      } catch (e) { error.textContent = e.message; return; }
      lastSaved = before;
      d.close();
      SR.toast("Permissions saved.");
      reload();
    } }, "Save these changes");
    d.append(el("h2", { id: "confirm-permissions-title" }, "Save these permission changes?"),
      el("ul", {}, list.map((s) => el("li", { class: s.risky ? "risky" : "" }, s.text))),
      el("p", {}, "They apply from each person's next click."), error,
      el("div", { class: "toolbar" }, ok, el("button", { type: "button", class: "secondary", onclick: () => d.close() }, "Keep editing")));
    d.addEventListener("close", () => d.remove());
    document.body.append(d);
    d.showModal();
    ok.focus();
  }
})();

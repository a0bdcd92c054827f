// schoolroll console: the Groups screen's dialogs. A form in a dialog (its
// own submit buttons, or one), a type-ahead finding people by name, and a
// group's properties (name, priority, who sees it, members to start with).
(function () {
  "use strict";
  const el = SR.el;
  const dialog = (...args) => SR.formDialog(...args);
  // anyone in the school (add_any_user)
  const anyone = async (q) => (await SR.api("GET", "/people?q=" + encodeURIComponent(q))).items;
  // "Year 9, 9A": a pupil told apart from a namesake
  SR.memberWhere = (m) => (m.kind === "pupil" ? [SR.yearName(m.year_group), m.registration_group].filter(Boolean).join(", ") : "");

  // ---- dialogs
  // extras(d, error) may return more toolbar buttons (e.g. "Delete group");
  // submitLabel null: the body holds its own submit buttons, and
  // onSubmit(form, the button pressed) tells them apart.
  SR.formDialog = function dialog(title, body, submitLabel, onSubmit, extras) {
    const error = el("p", { class: "error", role: "alert" });
    const d = el("dialog", { class: "groups-dialog", "aria-label": title });
    const f = el("form", {}, el("h2", {}, title), body, error,
      el("div", { class: "toolbar" },
        submitLabel ? el("button", { type: "submit" }, submitLabel) : null,
        el("button", { type: "button", class: "secondary", onclick: () => d.close() }, "Cancel"),
        extras ? extras(d, error) : null));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      SR.showFieldErrors(f, null);
      const buttons = [...f.querySelectorAll("button[type=submit]")];
      buttons.forEach((b) => { b.disabled = true; });
      try { await onSubmit(f, ev.submitter); d.close(); } catch (e) {
        error.textContent = SR.showFieldErrors(f, e) ? "Please correct the fields marked above." : e.message;
      }
      finally { buttons.forEach((b) => { b.disabled = false; }); }
    });
    // back to where the person was: that control, or its like in the list drawn again meanwhile
    const from = document.activeElement, label = from && from.getAttribute("aria-label");
    d.append(f);
    d.addEventListener("close", () => {
      d.remove();
      const again = from && from.isConnected ? from : label && document.querySelector('[aria-label="' + CSS.escape(label) + '"]');
      if (again) again.focus();
    });
    document.body.append(d);
    d.showModal();
    return d;
  };

  function radio(name, value, label, checked, extra, disabled) {
    const id = name + "-" + value;
    return el("div", { class: "choice" },
      el("input", { type: "radio", name, value, id, checked: !!checked, disabled: !!disabled }),
      el("label", { for: id }, label), extra || null);
  }

  // Type-ahead: find(q) gives the people found; 300 ms debounce, 1+ characters.
  // onPick(person, input, results) is called when a match is clicked.
  SR.peopleSearch = function peopleSearch(id, label, onPick, find) {
    const input = el("input", { type: "search", id, autocomplete: "off", placeholder: "Start typing a name" });
    const results = el("ul", { class: "people", "aria-label": "People found" });
    let t = null, seq = 0;
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") ev.preventDefault(); });
    input.addEventListener("input", () => {
      clearTimeout(t);
      const q = input.value.trim();
      seq += 1;
      if (q.length < 1) { results.replaceChildren(); return; }
      t = setTimeout(async () => {
        const mine = ++seq;
        try {
          const found = await (find || anyone)(q);
          if (mine !== seq) return;
          results.replaceChildren(...(found.length ? found.map((p) => el("li", {},
            el("button", { type: "button", class: "link", onclick: () => onPick(p, input, results) },
              p.name + " (" + (SR.memberWhere(p) || p.kind) + ")"))) : [el("li", {}, "Nobody found.")]));
        } catch (e) { if (mine === seq) results.replaceChildren(el("li", { class: "error", role: "alert" }, e.message)); }
      }, 300);
    });
    return el("div", { class: "field people-search" }, el("label", { for: id }, label), input, results);
  };
  // anyone in the school (add_any_user); a teacher who sees pupils finds them through All pupils
  // The properties dialog: a new group (group == null) or an existing one.
  SR.groupDialog = function groupDialog(group, hooks) {
    const editing = !!group;
    let saved = group; // once created, a retry after a failed member add edits instead of re-creating
    const chosen = new Map();
    const priority = el("select", { id: "group-priority", name: "priority" },
      ["low", "normal", "high"].map((p) => el("option", { value: p, selected: p === (editing ? group.priority : "normal") },
        p[0].toUpperCase() + p.slice(1))));
    const chips = el("ul", { class: "chips", "aria-label": "Members to add" });
    function renderChips() {
      chips.replaceChildren(...[...chosen.values()].map((p) => el("li", { class: "chip", "data-member-id": p.id },
        el("span", {}, p.name),
        el("button", { type: "button", class: "chip-remove", "aria-label": "Do not add " + p.name,
          onclick: () => { chosen.delete(p.id); renderChips(); } }, "×"))));
    }
    const membersBox = SR.can("add_any_user") ? el("fieldset", { class: "members-box" }, el("legend", {}, "Members"),
      SR.peopleSearch("group-add-members", "Add members", (p, input, results) => {
        chosen.set(p.id, { id: p.id, name: p.name });
        renderChips();
        input.value = ""; results.replaceChildren(); input.focus();
      }), chips) : null;
    const isUsers = () => (editing ? group.member_type : (new FormData(membersBox.closest("form")).get("member_type"))) === "user";
    const typeBox = el("fieldset", {}, el("legend", {}, "Members are"),
      radio("member_type", "user", "Users", !editing || group.member_type === "user", null, editing),
      radio("member_type", "machine", "Machines", editing && group.member_type === "machine", null, editing));
    if (membersBox) {
      membersBox.hidden = editing && group.member_type !== "user";
      typeBox.addEventListener("change", () => { membersBox.hidden = !isUsers(); });
    }
    const d = dialog(editing ? "Group properties" : "New group", [
      SR.field("name", "Name", "text", { required: true, maxlength: "100", value: editing ? group.name : undefined }),
      el("div", { class: "field" }, el("label", { for: "group-priority" }, "Priority"), priority),
      typeBox,
      el("fieldset", { class: "choice-list" }, el("legend", {}, "Who sees it"),
        radio("visibility", "shared", "All staff who can see groups", !(editing && !group.shared)),
        radio("visibility", "private", "Only me and the staff I choose", editing && !group.shared)),
      membersBox,
    ], "Save", async (f) => {
      const v = new FormData(f);
      const body = { name: v.get("name"), priority: v.get("priority"), shared: v.get("visibility") !== "private" };
      if (saved) {
        saved = await SR.api("PATCH", "/groups/" + encodeURIComponent(saved.id), body);
      } else {
        saved = await SR.api("POST", "/groups", Object.assign(body, { member_type: v.get("member_type") }));
      }
      if (chosen.size && saved.member_type === "user" && membersBox && !membersBox.hidden) {
        try {
          await SR.api("POST", "/groups/" + encodeURIComponent(saved.id) + "/members", { member_ids: [...chosen.keys()], until: null });
          chosen.clear(); renderChips();
        } catch (e) {
          await hooks.reload().catch(() => {});
          throw e;
        }
      }
      SR.toast("Group “" + saved.name + "” " + (editing ? "saved." : "created."));
      await hooks.saved(saved);
    }, editing ? (dlg, error) => [el("button", { type: "button", class: "danger", onclick: async (ev) => {
      error.textContent = "";
      if (!window.confirm("Delete the group “" + group.name + "”? Its members stay in the school; only the group goes.")) return;
      const btn = ev.currentTarget;
      btn.disabled = true;
      try {
        await SR.api("DELETE", "/groups/" + encodeURIComponent(group.id));
        dlg.close();
        SR.toast("Group “" + group.name + "” deleted.");
        await hooks.deleted();
      } catch (e) { error.textContent = e.message; btn.disabled = false; }
    } }, "Delete group")] : null);
    return d;
  };
})();

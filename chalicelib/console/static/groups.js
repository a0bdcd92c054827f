// schoolroll console: the Groups screen. Groups on the left, the selected
// group's members on the right. Members are added to another group by
// dragging a member row onto a group, by right-click "Add to group…", or by
// the row's own "Add to group…" button (keyboard). Timed memberships vanish
// from the page when their "until" passes, without a reload.
(function () {
  "use strict";
  const el = SR.el;
  const REFRESH_MS = 5000;

  const state = { groups: [], selected: null, members: [], membersKey: "", timer: null, expiryTimer: null, root: null };

  // ---- time helpers
  function tz() { return (SR.me && SR.me.school && SR.me.school.timezone) || undefined; }
  function showUntil(until) {
    if (!until) return "until removed";
    try {
      return "until " + new Intl.DateTimeFormat("en-GB", { timeZone: tz(), dateStyle: "medium", timeStyle: "short" })
        .format(new Date(until));
    } catch (e) { return "until " + until; }
  }
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  // ISO-8601 with the browser's local offset, e.g. 2024-05-01T15:30:00+01:00
  function isoLocal(d) {
    const off = -d.getTimezoneOffset();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + (off >= 0 ? "+" : "-") + pad(off / 60) + ":" + pad(off % 60);
  }
  const live = (m) => !m.until || Date.parse(m.until) > Date.now();

  // ---- dialogs
  function dialog(title, body, submitLabel, onSubmit) {
    const error = el("p", { class: "error", role: "alert" });
    const d = el("dialog", { class: "groups-dialog", "aria-label": title });
    const f = el("form", {}, el("h2", {}, title), body, error,
      el("div", { class: "toolbar" },
        el("button", { type: "submit" }, submitLabel),
        el("button", { type: "button", class: "secondary", onclick: () => d.close() }, "Cancel")));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      const button = f.querySelector("button[type=submit]");
      button.disabled = true;
      try { await onSubmit(f); d.close(); } catch (e) { error.textContent = e.message; SR.showFieldErrors(f, e); }
      finally { button.disabled = false; }
    });
    d.append(f);
    d.addEventListener("close", () => d.remove());
    document.body.append(d);
    d.showModal();
    return d;
  }

  function radio(name, value, label, checked, extra) {
    const id = name + "-" + value;
    return el("div", { class: "choice" },
      el("input", { type: "radio", name, value, id, checked: !!checked }),
      el("label", { for: id }, label), extra || null);
  }

  function newGroupDialog() {
    const priority = el("select", { id: "group-priority", name: "priority" },
      el("option", { value: "low" }, "Low"), el("option", { value: "normal", selected: true }, "Normal"),
      el("option", { value: "high" }, "High"));
    dialog("New group", [
      SR.field("name", "Name", "text", { required: true, maxlength: "100" }),
      el("div", { class: "field" }, el("label", { for: "group-priority" }, "Priority"), priority),
      el("fieldset", {}, el("legend", {}, "Members are"),
        radio("member_type", "user", "Users", true), radio("member_type", "machine", "Machines")),
      el("div", { class: "choice" }, el("input", { type: "checkbox", id: "group-private", name: "private" }),
        el("label", { for: "group-private" }, "Revoke permissions to this group for other teachers?")),
    ], "Save", async (f) => {
      const v = new FormData(f);
      const g = await SR.api("POST", "/groups", {
        name: v.get("name"), priority: v.get("priority"), member_type: v.get("member_type"), shared: !v.get("private"),
      });
      SR.toast("Group “" + g.name + "” created.");
      await loadGroups();
    });
  }

  // "How long?" — target is a group id, or null to pick one from a select.
  function howLongDialog(member, target) {
    const choices = state.groups.filter((g) => !g.system && g.id !== (target ? null : state.selected));
    const pick = target ? null : el("div", { class: "field" }, el("label", { for: "target-group" }, "Group"),
      el("select", { id: "target-group", name: "group", required: true },
        choices.map((g) => el("option", { value: g.id }, g.name))));
    const targetName = target ? (state.groups.find((g) => g.id === target) || {}).name : null;
    const inp = (attrs) => el("input", Object.assign({ class: "inline" }, attrs));
    dialog("How long?", [
      el("p", {}, "Add " + member.name + (targetName ? " to " + targetName : " to a group") + "."),
      pick,
      el("fieldset", {}, el("legend", {}, "Keep them in the group"),
        radio("how", "removed", "Until removed", true),
        radio("how", "time", "Until a time today", false, inp({ type: "time", name: "time", "aria-label": "Time today" })),
        radio("how", "days", "For N days", false, inp({ type: "number", name: "days", min: "1", max: "365", value: "1", "aria-label": "Number of days" })),
        radio("how", "date", "Until a date", false, inp({ type: "date", name: "date", "aria-label": "Date" }))),
    ], "Add", async (f) => {
      const v = new FormData(f);
      const group = target || v.get("group");
      if (!group) throw new Error("Choose a group.");
      let until = null;
      const how = v.get("how");
      if (how === "time") {
        const m = /^(\d\d):(\d\d)$/.exec(v.get("time") || "");
        if (!m) throw new Error("Enter a time.");
        const d = new Date(); d.setHours(+m[1], +m[2], 0, 0);
        if (d <= new Date()) throw new Error("That time has already passed today.");
        until = isoLocal(d);
      } else if (how === "days") {
        const n = parseInt(v.get("days"), 10);
        if (!(n >= 1)) throw new Error("Enter a number of days, 1 or more.");
        until = isoLocal(new Date(Date.now() + n * 86400000));
      } else if (how === "date") {
        const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(v.get("date") || "");
        if (!m) throw new Error("Choose a date.");
        const d = new Date(+m[1], +m[2] - 1, +m[3], 23, 59, 0, 0); // to the end of that day
        if (d <= new Date()) throw new Error("That date has already passed.");
        until = isoLocal(d);
      }
      await SR.api("POST", "/groups/" + encodeURIComponent(group) + "/members", { member_ids: [member.id], until });
      SR.toast(member.name + " added to " + ((state.groups.find((g) => g.id === group) || {}).name || "the group") + ".");
      await loadGroups();
      if (group === state.selected) await loadMembers(true);
    });
  }

  // ---- right-click menu
  function closeMenu() { document.querySelectorAll(".groups-menu").forEach((m) => m.remove()); }
  function openMenu(ev, member) {
    ev.preventDefault();
    closeMenu();
    const item = el("button", { type: "button", role: "menuitem", onclick: () => { closeMenu(); howLongDialog(member, null); } }, "Add to group…");
    const menu = el("div", { class: "groups-menu", role: "menu", style: "left:" + ev.clientX + "px;top:" + ev.clientY + "px" }, item);
    menu.addEventListener("keydown", (e) => { if (e.key === "Escape") closeMenu(); });
    document.body.append(menu);
    item.focus();
    setTimeout(() => document.addEventListener("click", closeMenu, { once: true }), 0);
  }

  // ---- data + rendering
  async function loadGroups() {
    const groups = (await SR.api("GET", "/groups")).items;
    const key = JSON.stringify(groups);
    if (key === state.groupsKey && state.root.querySelector("#group-list li")) return;
    state.groupsKey = key;
    state.groups = groups;
    renderList();
  }

  async function loadMembers(force) {
    if (!state.selected) { state.members = []; renderMembers(); return; }
    const id = state.selected;
    let items;
    try { items = (await SR.api("GET", "/groups/" + encodeURIComponent(id) + "/members")).items; }
    catch (e) { if (id === state.selected) showMembersError(e); return; }
    if (id !== state.selected) return;
    const key = JSON.stringify(items);
    if (!force && key === state.membersKey) { pruneExpired(); return; }
    state.membersKey = key;
    state.members = items;
    renderMembers();
  }

  function pruneExpired() {
    if (state.members.some((m) => !live(m))) { state.members = state.members.filter(live); renderMembers(); }
    scheduleExpiry();
  }

  function scheduleExpiry() {
    clearTimeout(state.expiryTimer);
    const next = state.members.filter((m) => m.until && live(m)).map((m) => Date.parse(m.until));
    if (!next.length) return;
    const wait = Math.min(...next) - Date.now() + 50;
    if (wait < 2147483647) state.expiryTimer = setTimeout(() => { if (alive()) { pruneExpired(); loadGroups().catch(() => {}); } }, wait);
  }

  function alive() { return state.root && state.root.isConnected; }

  function renderList() {
    const list = state.root && state.root.querySelector("#group-list");
    if (!list) return;
    list.replaceChildren(...state.groups.map((g) => {
      const b = el("button", { type: "button", class: "group-button", "data-group-id": g.id,
        "aria-pressed": g.id === state.selected ? "true" : "false", onclick: () => select(g.id) },
      el("span", { class: "group-name" }, g.name),
      el("span", { class: "group-count" }, g.member_count + (g.member_count === 1 ? " member" : " members")));
      b.addEventListener("dragover", (ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; b.classList.add("drop"); });
      b.addEventListener("dragleave", () => b.classList.remove("drop"));
      b.addEventListener("drop", (ev) => {
        ev.preventDefault(); b.classList.remove("drop");
        let member = null;
        try { member = JSON.parse(ev.dataTransfer.getData("application/json") || "null"); } catch (e) { member = null; }
        if (member && member.id) howLongDialog(member, g.id);
      });
      return el("li", {}, b);
    }));
  }

  function showMembersError(e) {
    const panel = state.root && state.root.querySelector("#group-members");
    if (panel) panel.replaceChildren(el("p", { class: "error", role: "alert" }, e.message));
  }

  function renderMembers() {
    const panel = state.root && state.root.querySelector("#group-members");
    const heading = state.root && state.root.querySelector("#members-title");
    if (!panel) return;
    const group = state.groups.find((g) => g.id === state.selected);
    heading.textContent = group ? group.name : "Members";
    if (!group) { panel.replaceChildren(el("p", {}, "Choose a group to see its members.")); return; }
    const members = state.members.filter(live);
    const rows = members.map((m) => {
      const li = el("li", { class: "member", draggable: "true", "data-member-id": m.id, oncontextmenu: (ev) => openMenu(ev, m) },
        el("span", { class: "member-name" }, m.name),
        el("span", { class: "member-kind" }, m.kind),
        el("span", { class: "member-until" }, showUntil(m.until)),
        el("span", { class: "member-actions" },
          el("button", { type: "button", class: "secondary", onclick: () => howLongDialog(m, null),
            "aria-label": "Add " + m.name + " to group…" }, "Add to group…"),
          group.system ? null : el("button", { type: "button", class: "danger", "aria-label": "Remove " + m.name,
            onclick: () => removeMember(group, m) }, "Remove")));
      li.addEventListener("dragstart", (ev) => {
        ev.dataTransfer.setData("application/json", JSON.stringify({ id: m.id, name: m.name }));
        ev.dataTransfer.setData("text/plain", m.name);
        ev.dataTransfer.effectAllowed = "copy";
      });
      return li;
    });
    panel.replaceChildren(rows.length ? el("ul", { class: "members" }, rows) : el("p", {}, "No members yet."));
    scheduleExpiry();
  }

  async function removeMember(group, m) {
    try {
      await SR.api("DELETE", "/groups/" + encodeURIComponent(group.id) + "/members/" + encodeURIComponent(m.id));
      SR.toast(m.name + " removed from " + group.name + ".");
      await Promise.all([loadGroups(), loadMembers(true)]);
    } catch (e) { SR.toast(e.message); }
  }

  async function select(id) {
    state.selected = id;
    state.members = []; state.membersKey = "";
    history.replaceState(null, "", "#/groups/" + encodeURIComponent(id));
    state.groupsKey = "";
    renderList();
    renderMembers();
    await loadMembers(true);
  }

  // ---- "Add anyone" type-ahead (add_any_user)
  function addAnyone() {
    const input = el("input", { type: "search", id: "add-anyone", autocomplete: "off", placeholder: "Start typing a name" });
    const results = el("ul", { class: "people", "aria-label": "People found" });
    let t = null, seq = 0;
    input.addEventListener("input", () => {
      clearTimeout(t);
      const q = input.value.trim();
      if (!q) { results.replaceChildren(); return; }
      t = setTimeout(async () => {
        const mine = ++seq;
        try {
          const found = (await SR.api("GET", "/people?q=" + encodeURIComponent(q))).items;
          if (mine !== seq) return;
          results.replaceChildren(...(found.length ? found.map((p) => el("li", {},
            el("button", { type: "button", class: "link", onclick: () => {
              if (!state.selected) return SR.toast("Choose a group first.");
              howLongDialog(p, state.selected);
            } }, p.name + " (" + p.kind + ")"))) : [el("li", {}, "Nobody found.")]));
        } catch (e) { if (mine === seq) results.replaceChildren(el("li", { class: "error", role: "alert" }, e.message)); }
      }, 300);
    });
    return el("div", { class: "field add-anyone" }, el("label", { for: "add-anyone" }, "Add anyone"), input, results);
  }

  SR.screen("groups", {
    title: "Groups",
    nav: true,
    render: async (container, args) => {
      clearInterval(state.timer); clearTimeout(state.expiryTimer);
      state.root = container;
      state.selected = args[0] || null;
      state.members = []; state.membersKey = ""; state.groupsKey = "";
      container.replaceChildren(
        el("h2", { id: "screen-title" }, "Groups"),
        el("div", { class: "columns groups" },
          el("div", {},
            el("div", { class: "groups-head" }, el("h3", {}, "Groups"),
              SR.can("create_groups") ? el("button", { type: "button", class: "add", "aria-label": "New group", onclick: newGroupDialog }, "+") : null),
            el("ul", { id: "group-list", class: "group-list", "aria-label": "Groups" })),
          el("div", {},
            el("h3", { id: "members-title" }, "Members"),
            SR.can("add_any_user") ? addAnyone() : null,
            el("div", { id: "group-members", "aria-live": "polite" }))));
      await loadGroups();
      renderMembers();
      if (state.selected) await loadMembers(true);
      state.timer = setInterval(() => {
        if (!alive()) { clearInterval(state.timer); clearTimeout(state.expiryTimer); return; }
        loadMembers(false).then(() => loadGroups()).catch(() => {});
      }, REFRESH_MS);
    },
  });
})();

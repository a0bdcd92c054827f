// schoolroll console: the Groups screen. Groups on the left, the selected
// group's members on the right. Members are added to another group by
// dragging a member row onto a group, by right-click "Add to group…", or by
// the row's own "Add to group…" button (keyboard). Timed memberships vanish
// from the page when their "until" passes, without a reload.
(function () {
  "use strict";
  const el = SR.el;
  const REFRESH_MS = 5000;

  const state = { groups: [], selected: null, members: [], membersKey: "", next: null, q: "", timer: null, expiryTimer: null,
    root: null, picked: new Map() };
  // a page of members; a refresh reads again as many as are shown (up to the API's 1,000)
  const PAGE = 500, MOST = 1000;

  function membersPath(id, limit, cursor) {
    const group = state.groups.find((g) => g.id === id);
    return "/groups/" + encodeURIComponent(id) + "/members?limit=" + limit +
      (group && !group.system ? "&scheduled=true" : "") +
      (state.q ? "&q=" + encodeURIComponent(state.q) : "") + (cursor ? "&next=" + encodeURIComponent(cursor) : "");
  }

  // ---- time helpers
  function tz() { return (SR.me && SR.me.school && SR.me.school.timezone) || undefined; }
  function when(at) {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: tz(), dateStyle: "medium", timeStyle: "short" })
        .format(new Date(at));
    } catch (e) { return at; }
  }
  // "2 h 25 min left", "3 days left"
  function timeLeft(until) {
    const minutes = Math.max(1, Math.round((Date.parse(until) - Date.now()) / 60000));
    if (minutes < 60) return minutes + " min left";
    if (minutes < 48 * 60) return Math.floor(minutes / 60) + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "") + " left";
    return Math.round(minutes / 1440) + " days left";
  }
  function showUntil(until, from, system) {
    if (system) return "";  // (a school group's members are the roster's: they have no end)
    const starts = from && Date.parse(from) > Date.now() ? "from " + when(from) + " " : "";
    return starts + (until ? "until " + when(until) + " (" + timeLeft(until) + ")" : "until removed");
  }
  const live = (m) => !m.until || Date.parse(m.until) > Date.now();

  // ---- dialogs
  // extras(d, error) may return more toolbar buttons (e.g. "Delete group");
  // submitLabel null: the body holds its own submit buttons, and
  // onSubmit(form, the button pressed) tells them apart.
  function dialog(title, body, submitLabel, onSubmit, extras) {
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
  }

  function radio(name, value, label, checked, extra, disabled) {
    const id = name + "-" + value;
    return el("div", { class: "choice" },
      el("input", { type: "radio", name, value, id, checked: !!checked, disabled: !!disabled }),
      el("label", { for: id }, label), extra || null);
  }

  function canEdit(g) { return !!g && !g.system && (g.role === "owner" || SR.can("manage_settings")); }
  // a named viewer sees a group's members and changes none
  const canChange = (g) => !!g && !g.system && g.role !== "viewer";

  // Type-ahead: find(q) gives the people found; 300 ms debounce, 1+ characters.
  // onPick(person, input, results) is called when a match is clicked.
  function peopleSearch(id, label, onPick, find) {
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
              p.name + " (" + (where(p) || p.kind) + ")"))) : [el("li", {}, "Nobody found.")]));
        } catch (e) { if (mine === seq) results.replaceChildren(el("li", { class: "error", role: "alert" }, e.message)); }
      }, 300);
    });
    return el("div", { class: "field people-search" }, el("label", { for: id }, label), input, results);
  }
  // anyone in the school (add_any_user); a teacher who sees pupils finds them through All pupils
  const anyone = async (q) => (await SR.api("GET", "/people?q=" + encodeURIComponent(q))).items;
  async function aPupil(q) {
    const all = state.groups.find((g) => g.system === "all_pupils");
    if (!all) return [];
    return (await SR.api("GET", "/groups/" + encodeURIComponent(all.id) + "/members?limit=20&q=" + encodeURIComponent(q))).items;
  }

  // The properties dialog: a new group (group == null) or an existing one.
  function groupDialog(group) {
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
      peopleSearch("group-add-members", "Add members", (p, input, results) => {
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
          state.groupsKey = ""; await loadGroups().catch(() => {});
          throw e;
        }
      }
      SR.toast("Group “" + saved.name + "” " + (editing ? "saved." : "created."));
      state.groupsKey = "";
      await loadGroups();
      if (saved.id === state.selected) { renderMembers(); await loadMembers(true); }
    }, editing ? (dlg, error) => [el("button", { type: "button", class: "danger", onclick: async (ev) => {
      error.textContent = "";
      if (!window.confirm("Delete the group “" + group.name + "”? Its members stay in the school; only the group goes.")) return;
      const btn = ev.currentTarget;
      btn.disabled = true;
      try {
        await SR.api("DELETE", "/groups/" + encodeURIComponent(group.id));
        dlg.close();
        SR.toast("Group “" + group.name + "” deleted.");
        await deselect();
      } catch (e) { error.textContent = e.message; btn.disabled = false; }
    } }, "Delete group")] : null);
    return d;
  }

  // "How long?" for one member or the ticked ones: target is a group id, or null to choose one.
  function howLongDialog(members, target) {
    const choices = state.groups.filter((g) => canChange(g) && (target ? g.id === target : g.id !== state.selected));
    SR.addToGroupDialog(members, target, choices, async (group) => {
      state.picked.clear();
      await loadGroups();
      if (group === state.selected) await loadMembers(true); else renderMembers();
    });
  }

  SR.formDialog = dialog;
  SR.showWhen = when;

  // ---- right-click menu
  function closeMenu() { document.querySelectorAll(".groups-menu").forEach((m) => m.remove()); }
  function openMenu(ev, member) {
    ev.preventDefault();
    closeMenu();
    const from = document.activeElement;
    const item = el("button", { type: "button", role: "menuitem", onclick: () => {
      closeMenu();
      if (from && from.isConnected) from.focus();
      howLongDialog([member], null);
    } }, "Add to group…");
    const menu = el("div", { class: "groups-menu", role: "menu" }, item);
    menu.style.left = ev.clientX + "px";  // CSSOM, not a style attribute: the CSP allows no inline style
    menu.style.top = ev.clientY + "px";
    menu.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { closeMenu(); if (from && from.isConnected) from.focus(); }
    });
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
    const id = state.selected, q = state.q;
    let page;
    if (!force && state.members.length > MOST) { pruneExpired(); return; }
    try { page = await SR.api("GET", membersPath(id, Math.min(MOST, Math.max(PAGE, state.members.length)))); }
    catch (e) { if (id === state.selected) showMembersError(e); return; }
    if (id !== state.selected || q !== state.q) return;
    const key = JSON.stringify(page);
    // (more than a page shown: a refresh would drop the rest; the shown ones still leave as they expire)
    if (!force && (key === state.membersKey || state.members.length > MOST)) { pruneExpired(); return; }
    state.membersKey = key;
    state.members = page.items;
    state.next = page.next;
    renderMembers();
  }

  async function showMore() {
    const id = state.selected, q = state.q;
    let page;
    try { page = await SR.api("GET", membersPath(id, PAGE, state.next)); }
    catch (e) { SR.toast(e.message); return; }
    if (id !== state.selected || q !== state.q) return;
    state.members = state.members.concat(page.items);
    state.next = page.next;
    state.membersKey = "";
    renderMembers();
  }

  function findInGroup() {
    let timer = null;
    const input = el("input", { type: "search", id: "find-in-group", placeholder: "A name, or “surname, first name”",
      autocomplete: "off" });
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.q = input.value.trim();
        state.members = []; state.next = null; state.membersKey = "";
        loadMembers(true);
      }, 250);
    });
    return el("div", { class: "field" }, el("label", { for: "find-in-group" }, "Find in this group"), input);
  }

  function pruneExpired() {
    if (state.members.some((m) => !live(m))) { state.members = state.members.filter(live); renderMembers(); }
    scheduleExpiry();
  }

  function scheduleExpiry() {
    clearTimeout(state.expiryTimer);
    const next = state.members.filter((m) => m.until && live(m)).map((m) => Date.parse(m.until))
      .concat(state.members.filter((m) => m.from && Date.parse(m.from) > Date.now()).map((m) => Date.parse(m.from)));
    if (!next.length) return;
    const wait = Math.min(...next) - Date.now() + 50;
    if (wait < 2147483647) state.expiryTimer = setTimeout(() => {
      if (alive()) { renderMembers(); pruneExpired(); loadGroups().catch(() => {}); }  // (a lesson begun: its label)
    }, wait);
  }

  function alive() { return state.root && state.root.isConnected; }

  // "7A" before "10A"; Nursery, Reception, then Year 1 to 13
  const natural = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  const SYSTEM_ORDER = { all_pupils: 0, all_staff: 1, year: 2, reg: 3 };
  const yearRank = (name) => (/^Nursery/.test(name) ? 0 : /^Reception/.test(name) ? 1 : 2);
  function bySchoolOrder(a, b) {
    return (SYSTEM_ORDER[a.system] - SYSTEM_ORDER[b.system]) ||
      (a.system === "year" ? yearRank(a.name) - yearRank(b.name) : 0) || natural.compare(a.name, b.name);
  }

  function groupButton(g) {
    const b = el("button", { type: "button", class: "group-button", "data-group-id": g.id,
      "aria-pressed": g.id === state.selected ? "true" : "false", onclick: () => select(g.id) },
    el("span", { class: "group-name" }, g.name),
    g.kind === "class" ? el("span", { class: "group-kind note" }, g.ended_at ? " class, ended" : " class") : null,
    !g.system && !g.shared ? el("span", { class: "badge badge-private", title: "Only its people see it" }, "Private") : null,
    g.role && g.role !== "owner" ? el("span", { class: "group-kind note" }, " you: " + g.role) : null,
    el("span", { class: "group-count" }, g.member_count + (g.member_count === 1 ? " member" : " members")));
    b.addEventListener("dragover", (ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; b.classList.add("drop"); });
    b.addEventListener("dragleave", () => b.classList.remove("drop"));
    b.addEventListener("drop", (ev) => {
      ev.preventDefault(); b.classList.remove("drop");
      let member = null;
      try { member = JSON.parse(ev.dataTransfer.getData("application/json") || "null"); } catch (e) { member = null; }
      if (!member || !member.id) return;
      if (!canChange(g)) SR.toast("You can't add people to " + g.name + (g.system ? ": the school's records fill it." : "."));
      else howLongDialog([member], g.id);
    });
    return el("li", {}, b);
  }

  // My groups (a role on them) first, then other teachers' shared groups,
  // then the school's own groups, naturally sorted, in a section that folds.
  function renderList() {
    const list = state.root && state.root.querySelector("#group-list");
    if (!list) return;
    // (a keyboard user who chose a group stays on it when the list is drawn again)
    const focused = list.contains(document.activeElement) ? document.activeElement.getAttribute("data-group-id") : null;
    const mine = state.groups.filter((g) => !g.system && g.role).sort((a, b) => natural.compare(a.name, b.name));
    const others = state.groups.filter((g) => !g.system && !g.role).sort((a, b) => natural.compare(a.name, b.name));
    const school = state.groups.filter((g) => g.system).sort(bySchoolOrder);
    const section = (title, groups) => [el("h4", { class: "group-section" }, title),
      el("ul", { class: "group-list", "aria-label": title }, groups.map(groupButton))];
    const parts = [];
    if (mine.length || SR.can("create_groups")) {
      parts.push(...section("My groups", mine));
      if (!mine.length) parts.push(el("p", { class: "note" }, "None yet: + makes one, and groups colleagues share with you appear here."));
    }
    if (others.length) parts.push(...section("Other staff's groups", others));
    if (school.length) {
      const fold = el("details", { class: "school-groups", open: localStorage.getItem("groups-school-folded") !== "yes" },
        el("summary", {}, "School groups (" + school.length + ")"),
        el("ul", { class: "group-list", "aria-label": "School groups" }, school.map(groupButton)));
      fold.addEventListener("toggle", () => localStorage.setItem("groups-school-folded", fold.open ? "no" : "yes"));
      parts.push(fold);
    }
    if (!state.groups.length) {
      parts.push(el("p", { class: "note" }, SR.can("view_roster") ? "No groups yet."
        : "No groups to show: your user group (" + SR.me.user_group + ") can't see pupils, so no group of them is " +
          "shown to you. Ask an admin if you need to."));
    }
    list.replaceChildren(...parts);
    if (focused) {
      const again = list.querySelector('[data-group-id="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
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
    state.root.querySelector(".columns.groups").classList.toggle("chosen", !!group);
    const tools = state.root.querySelector("#group-tools");
    if (tools) tools.replaceChildren(canEdit(group) ? el("button", { type: "button", class: "secondary",
      onclick: () => groupDialog(state.groups.find((g) => g.id === group.id) || group) }, "Properties…") : "");
    const people = state.root.querySelector("#group-people");
    if (people && people.dataset.groupId !== (group ? group.id + "/" + group.role : "")) {
      people.dataset.groupId = group ? group.id + "/" + group.role : "";
      SR.groupPeople.render(people, group && !group.system ? group : null, () => { state.groupsKey = ""; loadGroups(); });
    }
    if (!group) { panel.replaceChildren(el("p", {}, "Choose a group to see its members.")); return; }
    const members = state.members.filter(live);
    const shown = new Set(members.map((m) => m.id));
    [...state.picked.keys()].forEach((id) => { if (!shown.has(id)) state.picked.delete(id); });
    const pickable = addable().length > 0;
    const rows = members.map((m) => {
      const who = m.name + (where(m) ? ", " + where(m) : "");
      const li = el("li", { class: "member", draggable: "true", "data-member-id": m.id, oncontextmenu: (ev) => openMenu(ev, m) },
        pickable ? el("input", { type: "checkbox", class: "member-pick", "aria-label": "Select " + who,
          checked: state.picked.has(m.id), onchange: (ev) => pick(m, ev.currentTarget.checked) }) : null,
        el("span", { class: "member-name" }, m.name),
        el("span", { class: "member-kind" }, where(m) || (m.kind === "staff" ? "Staff" : m.kind === "machine" ? "Machine" : "")),
        el("span", { class: "member-until" }, showUntil(m.until, m.from, group.system)),
        el("span", { class: "member-actions" },
          el("button", { type: "button", class: "secondary", onclick: () => howLongDialog([m], null),
            "aria-label": "Add to group… " + who }, "Add to group…"),
          !canChange(group) ? null : el("button", { type: "button", class: "danger", "aria-label": "Remove " + who,
            onclick: () => removeMember(group, m) }, "Remove")));
      li.addEventListener("dragstart", (ev) => {
        ev.dataTransfer.setData("application/json", JSON.stringify({ id: m.id, name: m.name }));
        ev.dataTransfer.setData("text/plain", m.name);
        ev.dataTransfer.effectAllowed = "copy";
      });
      li.addEventListener("keydown", (ev) => {  // Shift+F10 or the menu key: the row's menu
        if ((ev.key === "F10" && ev.shiftKey) || ev.key === "ContextMenu") {
          const box = li.getBoundingClientRect();
          openMenu({ preventDefault: () => ev.preventDefault(), clientX: box.left + 24, clientY: box.bottom }, m);
        }
      });
      return li;
    });
    const empty = state.q ? "Nobody in this group is called “" + state.q + "”." : "No members yet.";
    const focused = panel.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
    panel.replaceChildren(rows.length && pickable ? pickBar(rows.length) : "",
      rows.length ? el("ul", { class: "members" + (pickable ? " pickable" : ""), "aria-label": "Members of " + group.name }, rows) : el("p", {}, empty),
      state.next ? el("button", { type: "button", class: "secondary", id: "members-more", onclick: showMore },
        state.q ? "Show more" : "Show more (" + rows.length + " of " + group.member_count + " shown)") : "");
    if (focused) {
      const again = panel.querySelector('[aria-label="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
    updatePickBar();
    scheduleExpiry();
  }

  // "Year 9, 9A": a pupil told apart from a namesake
  const where = (m) => (m.kind === "pupil" ? [SR.yearName(m.year_group), m.registration_group].filter(Boolean).join(", ") : "");
  // the groups a member may be added to from here
  const addable = () => state.groups.filter((g) => canChange(g) && g.id !== state.selected);

  function pick(m, on) {
    if (on) state.picked.set(m.id, { id: m.id, name: m.name }); else state.picked.delete(m.id);
    updatePickBar();
  }

  // Select all shown, how many are ticked, and one "Add selected to…" for them
  function pickBar(count) {
    const all = el("input", { type: "checkbox", id: "pick-all", onchange: (ev) => {
      const on = ev.currentTarget.checked;
      state.members.filter(live).forEach((m) => pick(m, on));
      state.root.querySelectorAll("#group-members .member-pick").forEach((b) => { b.checked = on; });
      updatePickBar();
    } });
    return el("div", { class: "pick-bar" },
      el("span", { class: "choice" }, all, el("label", { for: "pick-all" }, "Select all " + count + " shown")),
      el("span", { id: "picked-count", class: "note", "aria-live": "polite" }),
      el("button", { type: "button", id: "add-picked", onclick: () => howLongDialog([...state.picked.values()], null) },
        "Add selected to…"));
  }

  function updatePickBar() {
    const root = state.root, n = state.picked.size;
    const count = root && root.querySelector("#picked-count"), add = root && root.querySelector("#add-picked");
    const all = root && root.querySelector("#pick-all");
    if (!count) return;
    count.textContent = n ? n + " selected" : "";
    add.disabled = !n;
    const boxes = root.querySelectorAll("#group-members .member-pick");
    all.checked = n > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
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
    state.members = []; state.membersKey = ""; state.next = null; state.q = ""; state.picked.clear();
    const find = state.root && state.root.querySelector("#find-in-group");
    if (find) find.value = "";
    history.replaceState(null, "", "#/groups/" + encodeURIComponent(id));
    state.groupsKey = "";
    renderList();
    renderMembers();
    if (narrow()) state.root.querySelector("#members-title").focus();  // (the list is off screen there)
    await loadMembers(true);
  }

  const narrow = () => window.matchMedia("(max-width: 700px)").matches;

  async function deselect() {
    const was = state.selected;
    state.selected = null;
    state.members = []; state.membersKey = ""; state.groupsKey = "";
    history.replaceState(null, "", "#/groups");
    await loadGroups();
    renderList();
    renderMembers();
    const back = was && state.root.querySelector('[data-group-id="' + CSS.escape(was) + '"]');
    if (back && narrow()) back.focus();
  }

  // ---- "Add anyone" (add_any_user), or "Find a pupil" (every teacher who sees pupils)
  function finder() {
    const onPick = (p) => {
      const group = state.groups.find((g) => g.id === state.selected);
      howLongDialog([p], canChange(group) ? group.id : null);
    };
    if (SR.can("add_any_user")) return peopleSearch("add-anyone", "Add anyone", onPick);
    return SR.can("view_roster") ? peopleSearch("find-pupil", "Find a pupil to add", onPick, aPupil) : null;
  }

  // Up and down arrows move between the groups of the list, or between the
  // members' rows (to the same control of the next row)
  function arrows(ev) {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const t = ev.target, step = ev.key === "ArrowDown" ? 1 : -1;
    let next = null;
    if (t.classList.contains("group-button")) {
      const all = [...state.root.querySelectorAll(".group-button")].filter((b) => b.offsetParent !== null);
      next = all[all.indexOf(t) + step];
    } else if (t.closest("li.member") && t.tagName !== "SELECT") {
      const row = t.closest("li.member"), sibling = step > 0 ? row.nextElementSibling : row.previousElementSibling;
      const same = t.classList.contains("member-pick") ? ".member-pick" : "button." + (t.className.split(" ")[0] || "secondary");
      next = sibling && (sibling.querySelector(same) || sibling.querySelector("input, button"));
    }
    if (next) { ev.preventDefault(); next.focus(); }
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
        el("button", { type: "button", class: "skip", onclick: () => container.querySelector("#members-title").focus() },
          "Skip to members"),
        el("div", { class: "columns groups", onkeydown: arrows },
          el("div", {},
            el("div", { class: "groups-head" }, el("h3", {}, "Groups"),
              SR.can("create_groups") ? el("button", { type: "button", class: "add", "aria-label": "New group", onclick: () => groupDialog(null) }, "+") : null),
            el("div", { id: "group-list" })),
          el("div", {},
            el("button", { type: "button", class: "secondary narrow-only", onclick: deselect }, "← All groups"),
            el("div", { class: "groups-head" }, el("h3", { id: "members-title", tabindex: "-1" }, "Members"),
              el("div", { id: "group-tools", class: "group-tools" })),
            el("div", { id: "group-people", class: "group-people" }),
            finder(),
            findInGroup(),
            el("div", { id: "group-members", "aria-live": "polite" }))));
      await Promise.all([loadGroups(), SR.loadSchoolDay()]);
      renderMembers();
      if (state.selected) await loadMembers(true);
      state.timer = setInterval(() => {
        if (!alive()) { clearInterval(state.timer); clearTimeout(state.expiryTimer); return; }
        loadMembers(false).then(() => loadGroups()).catch(() => {});
      }, REFRESH_MS);
    },
  });
})();

// schoolroll console: the Groups screen. Groups on the left (mine, other
// staff's, the school's), the chosen group's members on the right. Members
// are added to another group by ticking them and "Add selected to…", by
// dragging a row onto a group, by right-click or Shift+F10 "Add to group…",
// or by the row's own button; the dialogs are group_dialog.js's and
// group_add.js's. Timed memberships vanish from the page when their "until"
// passes, without a reload.
(function () {
  "use strict";
  const el = SR.el;
  const REFRESH_MS = 5000;

  const state = { groups: [], selected: null, members: [], membersKey: "", next: null, q: "", timer: null, expiryTimer: null,
    root: null, picked: new Map(), drawn: 0 };
  // a page of members; a refresh reads again as many as are shown (up to the API's 1,000)
  const PAGE = 500, MOST = 1000;

  function membersPath(id, limit, cursor) {
    const group = state.groups.find((g) => g.id === id);
    return "/groups/" + encodeURIComponent(id) + "/members?limit=" + limit +
      (group && !group.system ? "&scheduled=true" : "") +
      (state.q ? "&q=" + encodeURIComponent(state.q) : "") + (cursor ? "&next=" + encodeURIComponent(cursor) : "");
  }

  // ---- time helpers
  // "2 h 25 min left", "3 days left"
  function timeLeft(until) {
    const minutes = Math.max(1, Math.round((Date.parse(until) - Date.now()) / 60000));
    if (minutes < 60) return minutes + " min left";
    if (minutes < 48 * 60) return Math.floor(minutes / 60) + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "") + " left";
    return Math.round(minutes / 1440) + " days left";
  }
  function showUntil(until, from, system) {
    if (system) return "";  // (a school group's members are the roster's: they have no end)
    const starts = from && Date.parse(from) > Date.now() ? "from " + SR.schoolTime(from) + " " : "";
    return starts + (until ? "until " + SR.schoolTime(until) + " (" + timeLeft(until) + ")" : "until removed");
  }
  const live = (m) => !m.until || Date.parse(m.until) > Date.now();

  function canEdit(g) { return !!g && !g.system && (g.role === "owner" || SR.can("manage_settings")); }
  // a named viewer sees a group's members and changes none
  const canChange = (g) => !!g && !g.system && g.role !== "viewer";

  async function aPupil(q) {
    const all = state.groups.find((g) => g.system === "all_pupils");
    if (!all) return [];
    return (await SR.api("GET", "/groups/" + encodeURIComponent(all.id) + "/members?limit=20&q=" + encodeURIComponent(q))).items;
  }

  // A group's properties (group null: a new one), and the list and members read again after
  function groupDialog(group) {
    return SR.groupDialog(group, {
      reload: () => { state.groupsKey = ""; return loadGroups(); },
      saved: async (saved) => {
        state.groupsKey = "";
        await loadGroups();
        if (saved.id === state.selected) { renderMembers(); await loadMembers(true); }
      },
      deleted: deselect,
    });
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
    state.drawn = Date.now();
    scheduleExpiry();
  }

  // "Year 9, 9A": a pupil told apart from a namesake
  const where = (m) => SR.memberWhere(m);
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
    if (SR.can("add_any_user")) return SR.peopleSearch("add-anyone", "Add anyone", onPick);
    return SR.can("view_roster") ? SR.peopleSearch("find-pupil", "Find a pupil to add", onPick, aPupil) : null;
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
        // (the times left are drawn again each minute, if nothing else drew them)
        loadMembers(false).then(() => { if (Date.now() - state.drawn > 60000) renderMembers(); return loadGroups(); })
          .catch(() => {});
      }, REFRESH_MS);
    },
  });
})();

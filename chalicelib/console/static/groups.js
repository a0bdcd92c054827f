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
    root: null };
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
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  // ISO-8601 with the browser's local offset, e.g. 2024-05-01T15:30:00+01:00
  function isoLocal(d) {
    const off = -d.getTimezoneOffset();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + (off >= 0 ? "+" : "-") + pad(off / 60) + ":" + pad(off % 60);
  }
  const live = (m) => !m.until || Date.parse(m.until) > Date.now();

  // ---- dialogs
  // extras(d, error) may return more toolbar buttons (e.g. "Delete group").
  function dialog(title, body, submitLabel, onSubmit, extras) {
    const error = el("p", { class: "error", role: "alert" });
    const d = el("dialog", { class: "groups-dialog", "aria-label": title });
    const f = el("form", {}, el("h2", {}, title), body, error,
      el("div", { class: "toolbar" },
        el("button", { type: "submit" }, submitLabel),
        el("button", { type: "button", class: "secondary", onclick: () => d.close() }, "Cancel"),
        extras ? extras(d, error) : null));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      SR.showFieldErrors(f, null);
      const button = f.querySelector("button[type=submit]");
      button.disabled = true;
      try { await onSubmit(f); d.close(); } catch (e) {
        error.textContent = SR.showFieldErrors(f, e) ? "Please correct the fields marked above." : e.message;
      }
      finally { button.disabled = false; }
    });
    d.append(f);
    d.addEventListener("close", () => d.remove());
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

  // Type-ahead over GET /people (add_any_user): 300 ms debounce, 1+ characters.
  // onPick(person) is called when a match is clicked.
  function peopleSearch(id, label, onPick) {
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
          const found = (await SR.api("GET", "/people?q=" + encodeURIComponent(q))).items;
          if (mine !== seq) return;
          results.replaceChildren(...(found.length ? found.map((p) => el("li", {},
            el("button", { type: "button", class: "link", onclick: () => onPick(p, input, results) },
              p.name + " (" + p.kind + ")"))) : [el("li", {}, "Nobody found.")]));
        } catch (e) { if (mine === seq) results.replaceChildren(el("li", { class: "error", role: "alert" }, e.message)); }
      }, 300);
    });
    return el("div", { class: "field people-search" }, el("label", { for: id }, label), input, results);
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

  // "How long?" — target is a group id, or null to pick one from a select.
  function howLongDialog(member, target) {
    const choices = state.groups.filter((g) => canChange(g) && g.id !== (target ? null : state.selected));
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
        radio("how", "today", "Until the end of today", false),
        radio("how", "time", "Until a time today", false, inp({ type: "time", name: "time", "aria-label": "Time today" })),
        radio("how", "lesson", "For a lesson today, from", false, el("span", {},
          inp({ type: "time", name: "lesson_from", "aria-label": "Lesson starts" }), " to ",
          inp({ type: "time", name: "lesson_until", "aria-label": "Lesson ends" }))),
        radio("how", "days", "For N days", false, inp({ type: "number", name: "days", min: "1", max: "365", value: "1", "aria-label": "Number of days" })),
        radio("how", "date", "Until a date", false, inp({ type: "date", name: "date", "aria-label": "Date" }))),
    ], "Add", async (f) => {
      const v = new FormData(f);
      const group = target || v.get("group");
      if (!group) throw new Error("Choose a group.");
      let until = null, from = null;
      const how = v.get("how");
      const today = (text, what) => {
        const m = /^(\d\d):(\d\d)$/.exec(text || "");
        if (!m) throw new Error("Enter the time the " + what + ".");
        const d = new Date(); d.setHours(+m[1], +m[2], 0, 0);
        return d;
      };
      if (how === "today") {
        const d = new Date(); d.setHours(23, 59, 0, 0);
        until = isoLocal(d);
      } else if (how === "lesson") {
        const starts = today(v.get("lesson_from"), "lesson starts"), ends = today(v.get("lesson_until"), "lesson ends");
        if (ends <= starts) throw new Error("The lesson must end after it starts.");
        if (ends <= new Date()) throw new Error("That lesson is over.");
        from = starts > new Date() ? isoLocal(starts) : null;
        until = isoLocal(ends);
      } else if (how === "time") {
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
      await SR.api("POST", "/groups/" + encodeURIComponent(group) + "/members",
        from ? { member_ids: [member.id], until, from } : { member_ids: [member.id], until });
      SR.toast(member.name + (from ? " will be in " : " added to ") +
        ((state.groups.find((g) => g.id === group) || {}).name || "the group") +
        (from ? " from " + from.slice(11, 16) + "." : "."));
      await loadGroups();
      if (group === state.selected) await loadMembers(true);
    });
  }

  SR.formDialog = dialog;
  SR.showWhen = when;

  // ---- right-click menu
  function closeMenu() { document.querySelectorAll(".groups-menu").forEach((m) => m.remove()); }
  function openMenu(ev, member) {
    ev.preventDefault();
    closeMenu();
    const item = el("button", { type: "button", role: "menuitem", onclick: () => { closeMenu(); howLongDialog(member, null); } }, "Add to group…");
    const menu = el("div", { class: "groups-menu", role: "menu" }, item);
    menu.style.left = ev.clientX + "px";  // CSSOM, not a style attribute: the CSP allows no inline style
    menu.style.top = ev.clientY + "px";
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
    const input = el("input", { type: "search", id: "find-in-group", "aria-label": "Find in this group",
      placeholder: "Find in this group", autocomplete: "off" });
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.q = input.value.trim();
        state.members = []; state.next = null; state.membersKey = "";
        loadMembers(true);
      }, 250);
    });
    return input;
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
      if (member && member.id) howLongDialog(member, g.id);
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
    const rows = members.map((m) => {
      const li = el("li", { class: "member", draggable: "true", "data-member-id": m.id, oncontextmenu: (ev) => openMenu(ev, m) },
        el("span", { class: "member-name" }, m.name),
        el("span", { class: "member-kind" }, m.kind),
        el("span", { class: "member-until" }, showUntil(m.until, m.from, group.system)),
        el("span", { class: "member-actions" },
          el("button", { type: "button", class: "secondary", onclick: () => howLongDialog(m, null),
            "aria-label": "Add to group… " + m.name }, "Add to group…"),
          !canChange(group) ? null : el("button", { type: "button", class: "danger", "aria-label": "Remove " + m.name,
            onclick: () => removeMember(group, m) }, "Remove")));
      li.addEventListener("dragstart", (ev) => {
        ev.dataTransfer.setData("application/json", JSON.stringify({ id: m.id, name: m.name }));
        ev.dataTransfer.setData("text/plain", m.name);
        ev.dataTransfer.effectAllowed = "copy";
      });
      return li;
    });
    const empty = state.q ? "Nobody in this group is called “" + state.q + "”." : "No members yet.";
    panel.replaceChildren(rows.length ? el("ul", { class: "members" }, rows) : el("p", {}, empty),
      state.next ? el("button", { type: "button", class: "secondary", id: "members-more", onclick: showMore },
        state.q ? "Show more" : "Show more (" + rows.length + " of " + group.member_count + " shown)") : "");
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
    state.members = []; state.membersKey = ""; state.next = null; state.q = "";
    const find = state.root && state.root.querySelector("#find-in-group");
    if (find) find.value = "";
    history.replaceState(null, "", "#/groups/" + encodeURIComponent(id));
    state.groupsKey = "";
    renderList();
    renderMembers();
    await loadMembers(true);
  }

  async function deselect() {
    state.selected = null;
    state.members = []; state.membersKey = ""; state.groupsKey = "";
    history.replaceState(null, "", "#/groups");
    await loadGroups();
    renderList();
    renderMembers();
  }

  // ---- "Add anyone" type-ahead (add_any_user)
  function addAnyone() {
    return peopleSearch("add-anyone", "Add anyone", (p) => {
      if (!state.selected) return SR.toast("Choose a group first.");
      howLongDialog(p, state.selected);
    });
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
              SR.can("create_groups") ? el("button", { type: "button", class: "add", "aria-label": "New group", onclick: () => groupDialog(null) }, "+") : null),
            el("div", { id: "group-list" })),
          el("div", {},
            el("div", { class: "groups-head" }, el("h3", { id: "members-title" }, "Members"),
              el("div", { id: "group-tools", class: "group-tools" })),
            el("div", { id: "group-people", class: "group-people" }),
            SR.can("add_any_user") ? addAnyone() : null,
            findInGroup(),
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

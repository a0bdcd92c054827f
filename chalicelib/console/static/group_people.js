// schoolroll console: the people on a group — its owners, teachers and
// viewers, each until removed or until a time — and, for its owners, sharing
// it with a colleague found by name, changing a role, or taking someone off.
(function () {
  "use strict";
  const el = SR.el;
  const ROLES = [["teacher", "Teacher: adds and removes members"], ["viewer", "Viewer: sees the members"],
    ["owner", "Owner: also shares, renames and deletes it"]];

  const path = (group) => "/groups/" + encodeURIComponent(group.id) + "/staff";
  const me = () => SR.me && SR.me.user && SR.me.user.id;

  async function render(box, group, onChange) {
    box.replaceChildren();
    if (!group) return;
    let people;
    try { people = (await SR.api("GET", path(group))).items; }
    catch (e) { box.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); return; }
    const owner = group.role === "owner" || SR.can("manage_settings");
    const again = () => { render(box, group, onChange); if (onChange) onChange(); };
    const rows = people.map((p) => el("li", { class: "person", "data-user-id": p.user_id },
      el("span", { class: "person-name" }, p.name + (p.disabled ? " (disabled)" : "")),
      el("span", { class: "person-role" }, p.role + (p.until ? " until " + SR.schoolTime(p.until) : "")),
      (owner || p.user_id === me()) && !(p.role === "owner" && people.filter((o) => o.role === "owner").length < 2)
        ? el("button", { type: "button", class: "secondary", "aria-label": "Take " + p.name + " off this group",
          onclick: () => takeOff(group, p, again) }, p.user_id === me() ? "Leave" : "Take off") : null));
    box.replaceChildren(el("h4", {}, "People on this group"), el("ul", { class: "people-on-group" }, rows),
      owner ? el("button", { type: "button", class: "secondary", id: "share-group",
        onclick: () => shareDialog(group, again) }, "Share with a colleague…") : "");
  }

  async function takeOff(group, person, done) {
    try {
      await SR.api("DELETE", path(group) + "/" + encodeURIComponent(person.user_id));
      SR.toast(person.name + " is off " + group.name + ".");
      done();
    } catch (e) { SR.toast(e.message); }
  }

  // Find a colleague by name (GET /staff?q=, view_roster), choose a role and how long.
  function shareDialog(group, done) {
    let chosen = null, t = null, seq = 0;
    const input = el("input", { type: "search", id: "share-colleague", autocomplete: "off", placeholder: "Start typing a name" });
    const found = el("ul", { class: "people", "aria-label": "Colleagues found" });
    const picked = el("p", { class: "note", id: "share-picked" }, "Nobody chosen yet.");
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") ev.preventDefault(); });
    input.addEventListener("input", () => {
      clearTimeout(t);
      const q = input.value.trim(), mine = ++seq;
      if (!q) { found.replaceChildren(); return; }
      t = setTimeout(async () => {
        try {
          const staff = (await SR.api("GET", "/staff?limit=20&q=" + encodeURIComponent(q))).items
            .filter((u) => u.status !== "disabled");
          if (mine !== seq) return;
          found.replaceChildren(...(staff.length ? staff.map((u) => el("li", {},
            el("button", { type: "button", class: "link", onclick: () => {
              chosen = u; picked.textContent = "Sharing with " + u.first_name + " " + u.surname + ".";
              found.replaceChildren(); input.value = "";
            } }, u.first_name + " " + u.surname + " (" + (u.user_group || "no user group") + ")")))
            : [el("li", {}, "Nobody found.")]));
        } catch (e) { if (mine === seq) found.replaceChildren(el("li", { class: "error", role: "alert" }, e.message)); }
      }, 250);
    });
    const role = el("select", { id: "share-role", name: "role" }, ROLES.map(([v, label]) => el("option", { value: v }, label)));
    const until = el("input", { type: "date", id: "share-until", name: "until" });
    SR.formDialog("Share “" + group.name + "”", [
      el("div", { class: "field people-search" }, el("label", { for: "share-colleague" }, "Colleague"), input, found),
      picked,
      el("div", { class: "field" }, el("label", { for: "share-role" }, "Role"), role),
      el("div", { class: "field" }, el("label", { for: "share-until" }, "Until (leave empty: until removed)"), until),
    ], "Share", async (f) => {
      if (!chosen) throw new Error("Choose a colleague first.");
      const v = new FormData(f);
      let end = null;
      const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(v.get("until") || "");
      if (m) end = new Date(+m[1], +m[2] - 1, +m[3], 23, 59, 0, 0).toISOString();
      await SR.api("PUT", path(group) + "/" + encodeURIComponent(chosen.id), { role: v.get("role"), until: end });
      SR.toast(group.name + " is shared with " + chosen.first_name + " " + chosen.surname + ".");
      done();
    });
  }

  SR.groupPeople = { render };
})();

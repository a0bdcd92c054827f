// schoolroll console: the audit log in sentences ("Ada Head moved Sam Smith
// from 8A to 8B", "2 Dec 2026, 09:14"), each naming its record, as the API
// names it now, with a link to it.
(function () {
  "use strict";
  const el = SR.el;
  const FIELDS = { first_name: "first name", date_of_birth: "date of birth", year_group: "year",
    registration_group: "registration group", upn: "UPN", user_group: "user group", job_role: "job role",
    until: "end", ends_at: "end date", mark_leavers: "leavers rule", require_mfa_for: "two-factor rule",
    idle_minutes: "idle time-out", day_ends: "end of the school day", max_group_members: "group size limit",
    allowed_domains: "sign-in domains", client_id: "client id", client_secret: "client secret", require: "sign-in rule" };
  const THINGS = { pupil: "the pupil", staff: "", account: "", group: "the group", group_staff: "the staff of",
    membership: "the members of", user_group: "the user group", machine: "the machine", import: "an import",
    settings: "the school's settings", rollover: "the new school year", import_errors: "an import's problem rows",
    import_changes: "an import's changes", pupils: "the pupils", exports: "a list", api_client: "an API client",
    sso_settings: "sign-in with the school's accounts" };
  const VERBS = { create: "added", update: "changed", delete: "deleted", add: "added to", erase: "erased",
    export: "exported", invite: "invited", login: "signed in", logout: "signed out", login_failed: "failed to sign in",
    account_disabled: "disabled", account_enabled: "enabled", mfa_reset: "reset two-factor sign-in for",
    approve: "approved", discard: "discarded", cancel: "cancelled", undo: "undid", ended: "closed (it ended)",
    handed_over: "handed over", taken_off: "took someone off", unowned: "left without an owner",
    role_ended: "ended a role on", email_verified: "verified the email of",
    token_issued: "got an hour's token as", secret_refused: "was refused a token (a wrong secret) as" };

  const words = (field) => FIELDS[field] || field.replace(/_/g, " ");
  function shown(field, value) {
    if (value === null || value === undefined || value === "") return "nothing";
    if (field === "year_group") return SR.yearName(value);
    if (field === "date_of_birth") return SR.schoolDate(value);
    if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
    if (typeof value === "boolean") return value ? "on" : "off";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // the link to an entry's record: a pupil or colleague found by name, a group opened
  function link(a) {
    const name = a.record_name;
    if (!name) return a.record_type === "pupil" ? "a pupil no longer on record" : null;
    const id = (a.record_id || "").split("/")[0];
    const href = a.record_type === "pupil" ? "#/pupils/" + encodeURIComponent(name)
      : (a.record_type === "staff" || a.record_type === "account") ? "#/staff/" + encodeURIComponent(name)
        : ["group", "group_staff", "membership"].indexOf(a.record_type) >= 0 ? "#/groups/" + encodeURIComponent(id) : null;
    return href ? el("a", { href }, name) : name;
  }

  // ["Ada Head", " moved ", <a>Sam Smith</a>, " from 8A to 8B"]
  SR.auditSentence = function auditSentence(a) {
    const changes = Object.entries(a.changes || {}).filter(([, v]) => Array.isArray(v) && v.length === 2);
    const who = link(a), thing = THINGS[a.record_type];
    const subject = who ? [thing ? thing + " " : "", who] : [thing === undefined ? a.record_type.replace(/_/g, " ") : thing || "someone"];
    if (a.action === "update" && changes.length === 1 && changes[0][0] === "registration_group" && who) {
      return [a.actor_name, " moved ", who, " from " + shown("", changes[0][1][0]) + " to " + shown("", changes[0][1][1])];
    }
    if (a.action === "update" && changes.length && a.record_type !== "settings") {
      const parts = changes.slice(0, 3).map(([f, [from, to]]) => words(f) + " from " + shown(f, from) + " to " + shown(f, to));
      return [a.actor_name, " changed ", ...subject, "’s ", SR.andList(parts) + (changes.length > 3 ? " and " + (changes.length - 3) + " more" : "")];
    }
    if (a.action === "update" && a.record_type === "settings") {
      return [a.actor_name, " changed the school's " + (changes.length ? SR.andList(changes.map(([f]) => words(f))) : "settings")];
    }
    if (["login", "logout", "login_failed"].indexOf(a.action) >= 0) return [a.actor_name, " " + VERBS[a.action]];
    const extra = a.action === "add" && a.changes && Array.isArray(a.changes.members)
      ? [" (" + a.changes.members.length + (a.changes.members.length === 1 ? " person" : " people") +
         (a.changes.until ? ", until " + SR.schoolTime(a.changes.until) : "") + ")"] : [];
    return [a.actor_name, " " + (VERBS[a.action] || a.action.replace(/_/g, " ")) + " ", ...subject, ...extra];
  };

  SR.auditLog = (items) => el("table", {}, el("caption", {}, "Audit log (latest 20)"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "When"), el("th", { scope: "col" }, "What happened"))),
    el("tbody", {}, items.map((a) => el("tr", {}, el("td", { class: "nowrap" }, SR.schoolTime(a.at)),
      el("td", {}, ...SR.auditSentence(a))))));
})();

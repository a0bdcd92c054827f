// schoolroll console: adding people to a group for a while. One dialog for
// one pupil (a drag, a row's button) or many (the ticked ones): which group,
// then how long, in the times of a school day (the end of this lesson, of
// the school day, tomorrow's, a week) as one click each. Times are the
// school's clock (its timezone, its day's end and periods from Settings).
(function () {
  "use strict";
  const el = SR.el;
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  let day = { ends: "15:30", periods: [] };

  // the school's day_ends and periods, read as the Groups screen opens
  SR.loadSchoolDay = async () => {
    try {
      const s = await SR.api("GET", "/settings");
      day = { ends: s.day_ends || "15:30", periods: s.periods || [] };
    } catch (e) { /* (the defaults: a day to 15:30, no periods) */ }
  };

  const tz = () => (SR.me && SR.me.school && SR.me.school.timezone) || undefined;
  const pad = (n) => String(Math.floor(n)).padStart(2, "0");
  const minutesOf = (hhmm) => +hhmm.slice(0, 2) * 60 + +hhmm.slice(3, 5);
  const utcDay = (date) => { const [y, m, d] = date.split("-").map(Number); return Date.UTC(y, m - 1, d); };
  const addDays = (date, n) => new Date(utcDay(date) + n * 86400000).toISOString().slice(0, 10);
  const weekday = (date) => new Date(utcDay(date)).getUTCDay();
  const schoolDay = (date) => weekday(date) > 0 && weekday(date) < 6;

  // The school's clock at an instant: { date: "2026-12-07", minutes: after midnight }
  function wall(at) {
    const p = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: tz(), year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(at).forEach((x) => { p[x.type] = x.value; });
    return { date: p.year + "-" + p.month + "-" + p.day, minutes: +p.hour * 60 + +p.minute };
  }
  // The instant the school's clock shows `minutes` past midnight on `date`
  // (two corrections find the offset, either side of a clock change).
  function instant(date, minutes) {
    const target = utcDay(date) + minutes * 60000;
    let guess = target;
    for (let i = 0; i < 2; i += 1) {
      const w = wall(new Date(guess));
      guess += target - (utcDay(w.date) + w.minutes * 60000);
    }
    return new Date(guess);
  }

  function nextSchoolDay(date) {
    let d = addDays(date, 1);
    while (!schoolDay(d)) d = addDays(d, 1);
    return d;
  }

  // One click each: the end of this lesson (periods set), of the school day
  // (after its end: the next school day's, named), a week, until removed.
  function presets(now) {
    const w = wall(now), ends = minutesOf(day.ends), list = [];
    const lesson = day.periods.find((p) => minutesOf(p.starts) <= w.minutes && w.minutes < minutesOf(p.ends));
    if (lesson && schoolDay(w.date)) {
      list.push({ how: "lesson", label: "Until the end of this lesson (" + lesson.name + ", " + lesson.ends + ")",
        until: instant(w.date, minutesOf(lesson.ends)) });
    }
    const next = nextSchoolDay(w.date);
    const nextName = next === addDays(w.date, 1) ? "tomorrow" : DAYS[weekday(next)];
    if (schoolDay(w.date) && w.minutes < ends) {
      list.push({ how: "day", label: "Until the end of the school day (" + day.ends + ")", until: instant(w.date, ends) });
    }
    list.push({ how: "next", label: "Until the end of " + nextName + "'s school day (" + day.ends + ")",
      until: instant(next, ends) });
    const week = addDays(w.date, 7);
    list.push({ how: "week", label: "For a week (to " + SR.schoolDate(week) + ", " + day.ends + ")",
      until: instant(week, ends) });
    list.push({ how: "removed", label: "Until removed", until: null });
    return list;
  }

  // The other ways, from the form: a time today, a lesson today, N days, until a date.
  function otherTimes(v) {
    const now = new Date(), today = wall(now).date;
    const at = (text, what) => {
      if (!/^\d\d:\d\d$/.test(text || "")) throw new Error("Enter the time " + what + ".");
      return instant(today, minutesOf(text));
    };
    const how = v.get("how");
    if (how === "time") {
      const until = at(v.get("time"), "to keep them until");
      if (until <= now) throw new Error("That time has already passed today.");
      return { until };
    }
    if (how === "lesson") {
      const starts = at(v.get("lesson_from"), "the lesson starts"), ends = at(v.get("lesson_until"), "the lesson ends");
      if (ends <= starts) throw new Error("The lesson must end after it starts.");
      if (ends <= now) throw new Error("That lesson is over.");
      return { until: ends, from: starts > now ? starts : null };
    }
    if (how === "days") {
      const n = parseInt(v.get("days"), 10);
      if (!(n >= 1)) throw new Error("Enter a number of days, 1 or more.");
      return { until: new Date(now.getTime() + n * 86400000) };
    }
    if (!/^\d{4}-\d\d-\d\d$/.test(v.get("date") || "")) throw new Error("Choose a date.");
    const until = instant(v.get("date"), 23 * 60 + 59);  // to the end of that day
    if (until <= now) throw new Error("That date has already passed.");
    return { until };
  }

  // ---- the school day in Administration: when it ends, and its periods one a line ("P1 08:50-09:50")
  SR.schoolDayFields = (settings) => el("fieldset", { class: "choices" }, el("legend", {}, "The school day"),
    el("p", { class: "note" }, "Teachers are offered these as “until the end of this lesson” and “of the school day”."),
    SR.field("day_ends", "The school day ends at", "time", { value: settings.day_ends, required: true, class: "short" }),
    el("div", { class: "field" }, el("label", { for: "periods" }, "Periods, one a line (name, start and end)"),
      el("textarea", { id: "periods", name: "periods", rows: "6", placeholder: "P1 08:50-09:50\nP2 09:50-10:50",
        "aria-describedby": "periods-error" },
      (settings.periods || []).map((p) => p.name + " " + p.starts + "-" + p.ends).join("\n")),
      el("p", { class: "field-error", id: "periods-error", role: "alert" })));

  SR.readPeriods = (text) => (text || "").split("\n").map((line) => line.trim()).filter(Boolean).map((line, i) => {
    const m = /^(.*\S)\s+(\d{1,2}):(\d\d)\s*[-–]\s*(\d{1,2}):(\d\d)$/.exec(line);
    if (!m) {
      const e = new Error("Line " + (i + 1) + " of the periods: write it as “P2 09:50-10:50”.");
      e.data = { errors: [{ field: "periods", code: "invalid_time", message: e.message }] };
      throw e;
    }
    return { name: m[1], starts: pad(m[2]) + ":" + m[3], ends: pad(m[4]) + ":" + m[5] };
  });

  const radio = (value, label, checked, extra) => el("div", { class: "choice" },
    el("input", { type: "radio", name: "how", value, id: "how-" + value, checked: !!checked }),
    el("label", { for: "how-" + value }, label), extra || null);
  const inp = (attrs) => el("input", Object.assign({ class: "inline" }, attrs));
  const LAST = "groups-last-target", NEW = "+new";

  // members: [{id, name}]; target: a group id, or null to choose one of `choices`.
  // done(group id) after adding.
  SR.addToGroupDialog = function addToGroupDialog(members, target, choices, done) {
    const names = members.length === 1 ? members[0].name : members.length + " people (" +
      SR.andList(members.slice(0, 2).map((m) => m.name).concat(members.length > 2 ? [(members.length - 2) + " more"] : [])) + ")";
    const last = localStorage.getItem(LAST);
    const targetName = target ? (choices.find((g) => g.id === target) || {}).name : null;
    // a group of one's own, or a new one made here ("A new group…": its name, then the same click)
    const making = SR.can("create_groups");
    const named = el("div", { class: "field", hidden: !!choices.length },
      el("label", { for: "new-group-name" }, "New group's name"),
      el("input", { id: "new-group-name", name: "new_group", maxlength: "100", autocomplete: "off" }));
    const select = choices.length ? el("select", { id: "target-group", name: "group", required: true,
      onchange: () => { named.hidden = select.value !== NEW; } },
    choices.map((g) => el("option", { value: g.id, selected: g.id === last }, g.name)),
    making ? el("option", { value: NEW }, "A new group…") : null) : null;
    const pick = target ? null : el("div", {},
      select ? el("div", { class: "field" }, el("label", { for: "target-group" }, "Group"), select)
        : making ? null : el("p", { class: "note" }, "You have no group to add to, and your user group can't make one."),
      making ? named : null);
    let made = null;  // (made here once: a retry after a refused add adds to it, not a second one)
    async function chosenGroup(v) {
      const picked = target || (select ? v.get("group") : NEW);
      if (picked !== NEW) return picked;
      if (made) return made.id;
      const name = (v.get("new_group") || "").trim();
      if (!name) throw new Error("Give the new group a name.");
      made = await SR.api("POST", "/groups", { name, member_type: "user" });
      choices.push(made);
      return made.id;
    }
    const quick = el("div", { class: "presets", role: "group", "aria-label": "How long" },
      presets(new Date()).map((p) => el("button", { type: "submit", name: "preset", value: p.how,
        class: p.how === "removed" ? "secondary" : "", "data-until": p.until ? p.until.toISOString() : "" }, p.label)));
    const more = el("details", { class: "other-times" }, el("summary", {}, "Other times"),
      el("fieldset", {}, el("legend", {}, "Keep them in the group"),
        radio("time", "Until a time today", true, inp({ type: "time", name: "time", "aria-label": "Time today" })),
        radio("lesson", "For a lesson today, from", false, el("span", {},
          inp({ type: "time", name: "lesson_from", "aria-label": "Lesson starts" }), " to ",
          inp({ type: "time", name: "lesson_until", "aria-label": "Lesson ends" }))),
        radio("days", "For N days", false, inp({ type: "number", name: "days", min: "1", max: "365", value: "1",
          "aria-label": "Number of days" })),
        radio("date", "Until a date", false, inp({ type: "date", name: "date", "aria-label": "Date" }))),
      el("button", { type: "submit", name: "preset", value: "other" }, "Add"));
    more.addEventListener("keydown", (ev) => {  // (Enter in a field here adds as chosen here, not by the first preset)
      if (ev.key === "Enter" && ev.target.tagName === "INPUT") { ev.preventDefault(); more.querySelector("button").click(); }
    });
    return SR.formDialog("How long?", [
      el("p", {}, "Add " + names + (targetName ? " to " + targetName : "") + "."), pick, quick, more,
    ], null, async (f, submitter) => {
      const v = new FormData(f);
      const choice = submitter && submitter.value;
      let when = { until: null };
      if (choice === "other") when = otherTimes(v);
      else if (submitter && submitter.dataset.until) when = { until: new Date(submitter.dataset.until) };
      if (when.until && when.until <= new Date()) throw new Error("That time has passed: close this and try again.");
      const body = { until: when.until ? when.until.toISOString() : null };
      if (when.from) body.from = when.from.toISOString();
      const group = await chosenGroup(v);
      const r = { added: 0, updated: 0 };
      for (let i = 0; i < members.length; i += 100) {  // (the API takes 100 a call)
        const part = await SR.api("POST", "/groups/" + encodeURIComponent(group) + "/members",
          Object.assign({ member_ids: members.slice(i, i + 100).map((m) => m.id) }, body));
        r.added += part.added; r.updated += part.updated;
      }
      if (!target) localStorage.setItem(LAST, group);
      const groupName = (choices.find((g) => g.id === group) || {}).name || "the group";
      SR.toast((members.length === 1 ? members[0].name : (r.added + r.updated) + " people") +
        (when.from ? " will be in " + groupName + " from " + SR.schoolTime(body.from) + "." : " added to " + groupName + "."));
      await done(group);
    });
  };
})();

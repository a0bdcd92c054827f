// schoolroll console: an import's rows with problems, in the template's
// words, each corrected in place and saved on its own (the rest of the
// wizard is imports.js).
(function () {
  "use strict";
  const el = SR.el;
  const MAX_ROWS = 500;
  const plural = SR.plural;

  // An import's rows with problems, each fixed in place; onFixed() after each fix
  SR.importProblemRows = async function rowsOf(i, importId, heading, onFixed) {
    const page = await SR.api("GET", "/imports/" + importId + "/rows?only=errors&limit=" + MAX_ROWS);
    const items = page.items || [];
    if (!items.length) {
      return el("p", { class: "ok" }, i.part_of ? heading.replace(" with problems", "") + ": no rows have problems." : "No rows have problems.");
    }
    const names = (i.fields || []).map((f) => f.name);
    const seen = new Set();
    items.forEach((r) => Object.keys(r.values || {}).forEach((k) => seen.add(k)));
    const cols = names.filter((n) => seen.has(n)).concat([...seen].filter((n) => names.indexOf(n) < 0));
    const more = Math.max(0, ((i.summary && i.summary.errors) || 0) - items.length);
    return el("section", {},
      el("h3", {}, heading),
      el("p", {}, "Correct the values and save each row; rows left with problems are not imported."),
      el("div", { class: "table-scroll" }, el("table", { class: "error-rows" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Row"), cols.map((c) => el("th", { scope: "col" }, label(i, c))),
          el("th", { scope: "col" }, "Problems"), el("th", { scope: "col" }, ""))),
        el("tbody", {}, items.map((r) => errorRow(r, cols, importId, i, onFixed))))),
      page.next || more ? el("p", { class: "note" }, (more ? plural(more, "more row") + " with problems " + (more === 1 ? "is" : "are") : "More rows with problems are") +
        " not shown. Fix these, then reload the page to see the next ones.") : "");
  };

  // a field as the template's header says it ("Date of birth", not date_of_birth)
  function label(i, name) {
    const f = (i.fields || []).find((x) => x.name === name);
    return (f && f.label) || name;
  }

  function errorRow(r, cols, importId, i, onFixed) {
    const inputs = {};
    const problems = el("td", { class: "problems" });
    const state = el("span", { class: "row-state", role: "status" });
    const save = el("button", { type: "button", class: "small" }, "Save");
    const tr = el("tr", { class: "has-error" }, el("th", { scope: "row" }, String(r.row)),
      cols.map((c) => {
        inputs[c] = el("input", { type: "text", value: (r.values || {})[c] || "", "aria-label": "Row " + r.row + " " + label(i, c) });
        return el("td", {}, inputs[c]);
      }), problems, el("td", {}, save, " ", state));
    function showErrors(errors) {
      problems.replaceChildren(...errors.map((e) => el("div", {}, e.message)));
      Object.entries(inputs).forEach(([c, input]) => {
        const bad = errors.some((e) => String(e.field || "").split(".").pop() === c);
        if (bad) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
      });
    }
    showErrors(r.errors || []);
    save.addEventListener("click", async () => {
      const values = {};
      Object.entries(inputs).forEach(([c, input]) => { values[c] = input.value; });
      save.disabled = true; state.textContent = "Saving…";
      try {
        const out = await SR.api("PATCH", "/imports/" + importId + "/rows/" + r.row, { values });
        if (!(out.errors || []).length) {
          tr.classList.remove("has-error");
          showErrors([]);
          state.textContent = out.status === "written" ? "Fixed and imported" : "Fixed";
          save.hidden = true;
          Object.values(inputs).forEach((input) => { input.readOnly = true; });
          onFixed();
        } else {
          showErrors(out.errors);
          state.textContent = "Still has problems";
          save.disabled = false;
        }
      } catch (e) {
        state.textContent = "";
        problems.replaceChildren(el("div", { class: "error" }, e.message));
        save.disabled = false;
      }
    });
    return tr;
  }
})();

// schoolroll console: the CSV import wizard (#/import, #/import/{id} to resume).
// Choose kind and file -> upload straight to storage -> match columns ->
// review and fix refused rows -> import -> complete.
(function () {
  "use strict";
  const el = SR.el;
  const KINDS = [["pupils", "Pupils"], ["staff", "Staff"], ["machines", "Machines"],
    ["bundle", "Roster bundle (OneRoster or School Data Sync .zip)"]];
  const STEPS = ["Choose a file", "Match columns", "Check and fix", "Import"];
  const POLL_MS = 700;
  const BUSY_WORDS = {
    uploading: "Waiting for the file to arrive…", sniffing: "Reading the file…",
    validating: "Checking rows…", committing: "Importing…",
  };

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const plural = SR.plural;

  SR.screen("import", {
    title: "Import",
    nav: true,
    visible: () => SR.can("manage_roster"),
    render: async (container, args) => {
      const steps = el("ol", { class: "steps" }, STEPS.map((s) => el("li", {}, s)));
      const body = el("div", {});
      container.replaceChildren(el("h2", { id: "screen-title" }, "Import"), steps, body);
      const alive = () => container.isConnected;

      function step(n, ...nodes) {
        steps.querySelectorAll("li").forEach((li, i) => {
          li.classList.toggle("done", i < n);
          if (i === n) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
        });
        body.replaceChildren(...nodes);
      }

      // Polls until the import reaches one of `targets` (or failed); shows progress words meanwhile.
      async function poll(id, targets, statusEl) {
        for (;;) {
          const imp = await SR.api("GET", "/imports/" + encodeURIComponent(id));
          if (!alive()) throw new Error("left the screen");
          if (targets.indexOf(imp.status) >= 0 || imp.status === "failed") return imp;
          let words = BUSY_WORDS[imp.status] || "Working…";
          if (imp.rows_processed) {
            words += " " + imp.rows_processed + (imp.rows_total ? " of " + imp.rows_total : "") + " rows";
          }
          statusEl.textContent = words;
          await sleep(POLL_MS);
        }
      }

      function failed(imp) {
        step(0, el("p", { class: "error", role: "alert" },
          (imp.error && imp.error.message) || "This import failed."),
        el("button", { type: "button", onclick: () => { history.replaceState(null, "", "#/import"); chooseFile(); } },
          "Start again"));
      }

      // Shows an import in whatever state it is in.
      async function showImport(imp) {
        if (imp.status === "failed") return failed(imp);
        if (imp.status === "held") return held(imp);
        if (imp.status === "discarded") {
          return step(4, el("p", {}, "This file was discarded: nothing of it was written. " +
            ((imp.hold && imp.hold.code === "superseded" && imp.hold.message) || "")),
          el("button", { type: "button", onclick: () => { history.replaceState(null, "", "#/import"); chooseFile(); } },
            "Import another file"));
        }
        if (imp.status === "mapping" && imp.kind === "bundle") return SR.bundleChoice(imp, { step, poll, alive, showImport });
        if (imp.status === "mapping") return mapColumns(imp);
        if (imp.status === "review" || imp.status === "committed") return review(imp);
        if (imp.status === "done") {
          return step(4, el("p", { class: "ok" }, "This import is complete."),
            el("button", { type: "button", onclick: () => { history.replaceState(null, "", "#/import"); chooseFile(); } },
              "Import another file"));
        }
        const status = el("p", { role: "status" }, BUSY_WORDS[imp.status] || "Working…");
        step(imp.status === "committing" ? 3 : imp.status === "validating" ? 1 : 0, status);
        return showImport(await poll(imp.id, ["mapping", "review", "committed", "done"], status));
      }

      // ---- a held drop: what it would do, then Approve or Discard
      const CHANGE_WORDS = [["leave", "would be marked as leavers"], ["update", "would change"],
        ["create", "would be added"], ["restore", "would come back on roll"]];

      async function held(imp) {
        const id = encodeURIComponent(imp.id);
        const error = el("p", { class: "error", role: "alert" });
        const lists = el("div", {});
        const decide = (action, words) => el("button", { type: "button", class: action === "discard" ? "secondary" : "" , onclick: async (ev) => {
          ev.target.disabled = true;
          try { showImport(await SR.api("POST", "/imports/" + id + "/" + action)); }
          catch (e) { error.textContent = e.message; ev.target.disabled = false; }
        } }, words);
        const csv = el("button", { type: "button", class: "secondary", onclick: async () => {
          try { await SR.downloadCsv("/imports/" + id + "/changes.csv", "schoolroll-import-" + imp.id + "-changes.csv"); }
          catch (e) { error.textContent = e.message; }
        } }, "Download every change (CSV)");
        step(2, el("h3", {}, "This file is waiting for you"),
          el("p", { role: "status" }, (imp.hold && imp.hold.message) || "This drop is held."),
          el("p", {}, "Nothing of it has been written. Check what it would do, then approve or discard it."),
          lists, el("p", {}, decide("approve", "Approve and import"), " ", decide("discard", "Discard"), " ", csv), error);
        const s = imp.summary || {};
        for (const [change, words] of CHANGE_WORDS) {
          const n = change === "restore" ? s.restore : change === "leave" ? s.leave : s[change];
          if (!n) continue;
          const page = await SR.api("GET", "/imports/" + id + "/changes?kind=" + change + "&limit=20");
          if (!alive()) return;
          lists.append(el("h4", {}, plural(n, "record") + " " + words),
            el("ul", { class: "changes", "aria-label": words }, (page.items || []).map((i) => [i,
              [(i.record || {}).first_name || (i.record || {}).name || "", (i.record || {}).surname || ""].join(" ").trim() || i.id])
              .sort((a, b) => a[1].localeCompare(b[1])).map(([i, name]) => el("li", {}, name,
              i.fields ? " — " + Object.entries(i.fields).map(([f, m]) => f + ": " + (m.before == null ? "–" : m.before) +
                " → " + (m.after == null ? "–" : m.after)).join("; ") : ""))),
            n > (page.items || []).length ? el("p", { class: "note" }, "The CSV lists them all.") : "");
        }
      }

      // ---- step 1: kind, template, file, upload
      function chooseFile() {
        const error = el("p", { class: "error", role: "alert" });
        const status = el("p", { role: "status" });
        const progress = el("progress", { max: "100", value: "0", "aria-label": "Upload progress", hidden: true });
        const template = el("a", { href: "#", class: "template-link" }, "Download the CSV template");
        let templateUrl = null;
        const radios = KINDS.map(([value, label], i) => {
          const id = "import-kind-" + value;
          return el("div", { class: "choice" },
            el("input", { type: "radio", name: "kind", id, value, checked: i === 0, onchange: loadTemplate }),
            el("label", { for: id }, label));
        });
        const kind = () => (body.querySelector("input[name=kind]:checked") || {}).value || "pupils";

        async function loadTemplate() {
          const k = kind();
          template.hidden = k === "bundle";
          if (k === "bundle") return; // (a bundle is the MIS's own export: no template)
          template.textContent = "Download the " + KINDS.find((x) => x[0] === k)[1].toLowerCase() + " CSV template";
          template.removeAttribute("download");
          template.setAttribute("href", "#");
          try {
            const res = await fetch(SR.base + "api/imports/template?kind=" + encodeURIComponent(k),
              { headers: { Authorization: "Bearer " + sessionStorage.getItem("token") } });
            if (!res.ok) {
              let data = null;
              try { data = await res.json(); } catch (e) { data = null; }
              throw new Error((data && data.message) || "The template could not be fetched (" + res.status + ").");
            }
            const blob = await res.blob();
            if (k !== kind()) return;
            if (templateUrl) URL.revokeObjectURL(templateUrl);
            templateUrl = URL.createObjectURL(blob);
            template.href = templateUrl;
            template.download = "schoolroll-" + k + "-template.csv";
          } catch (e) {
            error.textContent = e.message === "Failed to fetch" ? "Cannot reach the server. Check your connection and try again." : e.message;
          }
        }
        template.addEventListener("click", (ev) => { if (!template.hasAttribute("download")) ev.preventDefault(); });

        const fileInput = el("input", { type: "file", id: "import-file", accept: ".csv,.txt,text/csv,.xlsx,.xlsm,.xlsb,.xls,.ods,.zip" });
        const chosen = el("p", { class: "chosen", "aria-live": "polite" }, "No file chosen yet.");
        fileInput.addEventListener("change", () => {
          const f = fileInput.files[0];
          chosen.textContent = f ? "Chosen: " + f.name + " (" + Math.max(1, Math.round(f.size / 1024)) + " KB)" : "No file chosen yet.";
        });
        const drop = el("div", { class: "drop-zone" },
          el("label", { for: "import-file" }, "CSV file, spreadsheet (.xlsx, .xls, .ods) or roster bundle (.zip)"), fileInput,
          el("p", {}, "…or drag the file and drop it here."), chosen);
        ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
        ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
        drop.addEventListener("drop", (ev) => {
          ev.preventDefault();
          const files = ev.dataTransfer && ev.dataTransfer.files;
          if (!files || !files.length) return;
          try { fileInput.files = files; } catch (e) { /* old browser: keep the drop below */ }
          drop.dropped = files[0];
          fileInput.dispatchEvent(new Event("change"));
          if (!fileInput.files.length) chosen.textContent = "Chosen: " + files[0].name;
        });

        const upload = el("button", { type: "button" }, "Upload");
        upload.addEventListener("click", async () => {
          error.textContent = "";
          const file = fileInput.files[0] || drop.dropped;
          if (!file) { error.textContent = "Choose a CSV file or spreadsheet first."; return; }
          upload.disabled = true;
          try {
            const started = await SR.api("POST", "/imports", { kind: kind(), filename: file.name });
            if (started.max_bytes && file.size > started.max_bytes) {
              throw new Error("This file is too big: the limit is " + Math.round(started.max_bytes / 1048576) + " MB.");
            }
            history.replaceState(null, "", "#/import/" + encodeURIComponent(started.import_id));
            progress.hidden = false;
            status.textContent = "Uploading " + file.name + "…";
            await send(started.upload, file, progress);
            status.textContent = "Uploaded. Reading the file…";
            const imp = await poll(started.import_id, ["mapping", "review"], status);
            if (alive()) showImport(imp);
          } catch (e) {
            if (!alive()) return;
            error.textContent = e.message; progress.hidden = true; status.textContent = "";
            upload.disabled = false;
          }
        });

        step(0,
          el("fieldset", { class: "import-kind" }, el("legend", {}, "What are you importing?"), radios),
          el("p", {}, template, " — fill it in, or use an export from your MIS."),
          drop, upload, progress, status, error);
        loadTemplate();
      }

      // Multipart POST to the presigned upload: every field first, the file last; progress shown.
      function send(upload, file, progress) {
        return new Promise((resolve, reject) => {
          const form = new FormData();
          Object.entries(upload.fields || {}).forEach(([k, v]) => form.append(k, v));
          form.append("file", file);
          const xhr = new XMLHttpRequest();
          xhr.open("POST", upload.url);
          xhr.upload.addEventListener("progress", (ev) => {
            if (ev.lengthComputable) progress.value = Math.round((100 * ev.loaded) / ev.total);
          });
          xhr.addEventListener("load", () => {
            if (xhr.status >= 200 && xhr.status < 300) { progress.value = 100; resolve(); }
            else if (xhr.status === 400 && /EntityTooLarge/.test(xhr.responseText || "")) reject(new Error("This file is too big to upload."));
            else if (xhr.status === 403) reject(new Error("The upload link has expired. Upload the file again."));
            else reject(new Error("The upload did not go through (" + xhr.status + "). Try again."));
          });
          xhr.addEventListener("error", () => reject(new Error("Cannot reach the file store. Check your connection and try again.")));
          xhr.send(form);
        });
      }

      // ---- step 2: match columns to fields
      function mapColumns(imp) {
        const fields = imp.fields || [];
        const suggested = imp.mapping || imp.suggested_mapping || {};
        const error = el("p", { class: "error", role: "alert" });
        const status = el("p", { role: "status" });
        const note = el("p", { class: "note", "aria-live": "polite" });
        const selects = [];
        const rows = (imp.columns || []).map((col) => {
          const select = el("select", { "aria-label": "Field for column " + col.name, onchange: updateNote },
            el("option", { value: "" }, "— not imported —"),
            fields.map((f) => el("option", { value: f.name, selected: suggested[col.name] === f.name },
              (f.label || f.name) + (f.required ? " (required)" : ""))));
          select.dataset.column = col.name;
          selects.push(select);
          const guessed = !imp.mapping && (imp.suggested_by || {})[col.name] === "values";
          return el("tr", {}, el("th", { scope: "row" }, col.name), el("td", {}, (col.samples || []).join(", ")),
            el("td", {}, select, guessed ? el("span", { class: "note" }, " suggested from its values: check it") : null));
        });
        // A column whose dates read only month first (12/19/2013) is asked about, never read so silently.
        const chosen = imp.date_orders || {};
        const dateQuestions = (imp.columns || []).filter((col) => col.date_order === "month_first").map((col) => {
          const name = "order-" + col.name;
          const option = (value, text) => el("label", {},
            el("input", { type: "radio", name, value, checked: chosen[col.name] === value }), " " + text);
          const box = el("fieldset", { class: "date-order" },
            el("legend", {}, "How should we read the dates in " + col.name + "?"),
            el("p", { class: "note" }, "Some, such as " + (col.date_example || (col.samples || [])[0]) + ", can only be month first (US order)."),
            option("month_first", "Month first: 12/19/2013 is 19 December 2013"),
            option("day_first", "Day first: dates like 12/19/2013 are refused"));
          box.dataset.column = col.name;
          return box;
        });
        function dateOrders(mapping) {
          const orders = {};
          for (const box of dateQuestions) {
            const column = box.dataset.column;
            if (mapping[column] !== "date_of_birth") continue;
            const picked = box.querySelector("input:checked");
            if (!picked) throw new Error("Choose how to read the dates in " + column + ".");
            orders[column] = picked.value;
          }
          return orders;
        }
        function updateNote() {
          const used = new Set(selects.map((s) => s.value).filter(Boolean));
          const missing = fields.filter((f) => f.required && !used.has(f.name)).map((f) => f.label || f.name);
          note.textContent = missing.length ? "Required fields not matched yet: " + missing.join(", ") + "." : "All required fields are matched.";
          note.className = missing.length ? "note error" : "note ok";
        }
        const check = el("button", { type: "button" }, "Check rows");
        check.addEventListener("click", async () => {
          error.textContent = "";
          const mapping = {};
          selects.forEach((s) => { if (s.value) mapping[s.dataset.column] = s.value; });
          let date_orders;
          try { date_orders = dateOrders(mapping); } catch (e) { error.textContent = e.message; return; }
          check.disabled = true;
          try {
            await SR.api("PUT", "/imports/" + encodeURIComponent(imp.id) + "/mapping", { mapping, date_orders });
            status.textContent = "Checking rows…";
            const next = await poll(imp.id, ["review"], status);
            if (alive()) showImport(next);
          } catch (e) {
            if (!alive()) return;
            const details = ((e.data && e.data.errors) || []).map((x) => x.message).filter((m) => m && m !== e.message);
            error.textContent = [e.message].concat(details).join(" ");
            status.textContent = "";
            check.disabled = false;
          }
        });
        // A workbook of several sheets: another may be read instead (its columns read again).
        const sheetPicker = (imp.sheets || []).length > 1 ? el("p", {}, el("label", { for: "import-sheet" }, "Sheet: "),
          el("select", { id: "import-sheet", onchange: async (ev) => {
            error.textContent = ""; ev.target.disabled = true;
            try {
              await SR.api("PUT", "/imports/" + encodeURIComponent(imp.id) + "/sheet", { sheet: ev.target.value });
              status.textContent = "Reading the sheet…";
              const next = await poll(imp.id, ["mapping"], status);
              if (alive()) showImport(next);
            } catch (e) { if (alive()) { error.textContent = e.message; ev.target.disabled = false; } }
          } }, imp.sheets.map((name) => el("option", { value: name, selected: name === imp.sheet }, name)))) : null;
        step(1, sheetPicker || "",
          el("p", {}, "Tell us which field each column of " + (imp.filename || "your file") +
            (imp.sheet ? ", sheet " + imp.sheet + "," : "") + " holds" +
            (imp.rows_total ? " (" + plural(imp.rows_total, "row") + ")" : "") + "."),
          el("table", { class: "mapping" },
            el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Column"), el("th", { scope: "col" }, "Examples"), el("th", { scope: "col" }, "Field"))),
            el("tbody", {}, rows)),
          ...dateQuestions, note, check, status, error);
        updateNote();
      }

      // ---- step 3/4: review, fix rows, import, complete
      async function review(imp) {
        const id = encodeURIComponent(imp.id);
        const summaryEl = el("p", { class: "summary" });
        const resultEl = el("p", { class: "result ok", role: "status" });
        const status = el("p", { role: "status" });
        const error = el("p", { class: "error", role: "alert" });
        const rowsHolder = el("div", {});
        const bundleEl = el("div", { class: "bundle-review" });
        const importBtn = el("button", { type: "button" }, "Import Data");
        const completeBtn = el("button", { type: "button", class: "secondary" }, "Complete");
        const downloadBtn = el("button", { type: "button", class: "secondary" }, "Download the rows with problems (CSV)");
        downloadBtn.addEventListener("click", () => SR.download("/imports/" + id + "/errors.csv", "rows-with-problems.csv")
          .catch((e) => { error.textContent = e.message; }));

        function showSummary(i) {
          const s = i.summary || {};
          summaryEl.textContent = plural(s.rows || 0, "row") + " checked: " + (s.valid || 0) + " ready to import (" +
            (s.create || 0) + " new, " + (s.update || 0) + " to update, " + (s.unchanged || 0) + " unchanged) and " +
            plural(s.errors || 0, "row") + " with problems.";
          if (i.result) {
            const r = i.result;
            resultEl.textContent = SR.importedCount(r) + " imported (" + (r.created || 0) + " new, " + (r.updated || 0) + " changed, " +
              (r.unchanged || 0) + " unchanged), " + (r.refused || 0) + " not imported" +
              (r.refused ? ": fix them below or download them." : ".");
          }
          importBtn.hidden = i.status !== "review";
          completeBtn.hidden = !i.result;  // (nothing to complete before importing)
          downloadBtn.hidden = !((i.result && i.result.refused) || (i.summary && i.summary.errors));
          if (i.kind === "bundle") bundleEl.replaceChildren(...SR.bundleReview(i));
        }

        async function refresh() {
          try { const i = await SR.api("GET", "/imports/" + id); if (alive()) showSummary(i); } catch (e) { /* keep what we show */ }
        }

        // A bundle's rows are its parts' (staff, pupils), each fixed as its own file's.
        async function loadRows(i) {
          if (i.kind !== "bundle") return rowsHolder.replaceChildren(await SR.importProblemRows(i, id, "Rows with problems", refresh));
          const sections = [];
          for (const [kind, partId] of Object.entries(i.parts || {})) {
            const part = await SR.api("GET", "/imports/" + encodeURIComponent(partId));
            sections.push(await SR.importProblemRows(part, encodeURIComponent(partId), (kind === "staff" ? "Staff" : "Pupils") + " with problems", refresh));
          }
          rowsHolder.replaceChildren(...sections);
        }


        importBtn.addEventListener("click", async () => {
          error.textContent = ""; importBtn.disabled = true;
          try {
            await SR.api("POST", "/imports/" + id + "/commit");
            status.textContent = "Importing…";
            const done = await poll(imp.id, ["committed", "done"], status);
            if (!alive()) return;
            status.textContent = "";
            if (done.status === "failed") return failed(done);
            steps.querySelectorAll("li").forEach((li) => { li.classList.add("done"); li.removeAttribute("aria-current"); });
            showSummary(done);
            await loadRows(done);
          } catch (e) {
            if (!alive()) return;
            error.textContent = e.message; status.textContent = "";
          } finally { importBtn.disabled = false; }
        });
        completeBtn.addEventListener("click", async () => {
          error.textContent = ""; completeBtn.disabled = true;
          try {
            await SR.api("POST", "/imports/" + id + "/complete");
            SR.toast("Import complete.");
            SR.go("#/home");
          } catch (e) { error.textContent = e.message; completeBtn.disabled = false; }
        });

        showSummary(imp);
        step(imp.status === "committed" ? 4 : 2, summaryEl, resultEl, bundleEl, rowsHolder,
          el("div", { class: "toolbar" }, importBtn, downloadBtn, completeBtn), status, error);
        try { await loadRows(imp); } catch (e) { rowsHolder.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
      }

      // ---- start, or resume #/import/{id}
      if (args && args[0]) {
        let imp;
        try { imp = await SR.api("GET", "/imports/" + encodeURIComponent(args[0])); }
        catch (e) {
          step(0, el("p", { class: "error", role: "alert" }, e.message),
            el("button", { type: "button", onclick: () => SR.go("#/import") }, "Start a new import"));
          return;
        }
        try { await showImport(imp); } catch (e) { if (alive()) body.append(el("p", { class: "error", role: "alert" }, e.message)); }
        return;
      }
      chooseFile();
    },
  });
})();

// Abstract screens: type-ahead code pickers (code and term), partial dates, and edit messages
// beside their fields when a field is left. No framework; works with the CSP (no inline script).
(function () {
  "use strict";
  var form = document.getElementById("abstract-form");
  var codesUrl = (form && form.dataset.codesUrl) || "/codes/SYSTEM.json";

  function debounce(fn, ms) {
    var timer;
    return function () { var args = arguments; clearTimeout(timer); timer = setTimeout(function () { fn.apply(null, args); }, ms); };
  }

  function termBox(input) {
    var box = document.getElementById("term-" + (input.id || input.name));
    return box;
  }

  // --- type-ahead pickers -------------------------------------------------------------------
  function picker(input) {
    var system = input.dataset.picker;
    var list = document.createElement("ul");
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.id = "picker-" + (input.id || input.name);
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.parentNode.insertBefore(list, input.nextSibling);
    var items = [], active = -1;

    function close() { list.hidden = true; active = -1; input.setAttribute("aria-expanded", "false"); }
    function choose(item) {
      if (system === "morphology") {
        var parts = item.code.split("/");
        input.value = parts[0];
        var behavior = form && form.querySelector("[name='" + (input.dataset.behaviorField || "behavior") + "']");
        if (behavior) { behavior.value = parts[1]; var bt = termBox(behavior); if (bt) { bt.textContent = ""; } }
      } else if (item.range) {
        // a row standing for many codes (01-89): the registrar types the exact value
        var hint = termBox(input);
        if (hint) { hint.textContent = "enter a value in " + item.code + ": " + item.term; }
        close();
        return;
      } else {
        input.value = item.code;
      }
      var box = termBox(input);
      if (box) { box.textContent = item.term; }
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.classList.toggle("active", i === index);
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
    }
    var search = debounce(function (all) {
      var q = all === true ? "" : input.value.trim();
      // a schema's own codes (Stage section) come from the input's data-picker-url
      var url = input.dataset.pickerUrl ? input.dataset.pickerUrl + "&q=" : codesUrl.replace("SYSTEM", system) + "?q=";
      fetch(url + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          items = data.results || [];
          list.innerHTML = "";
          items.forEach(function (item, i) {
            var li = document.createElement("li");
            li.setAttribute("role", "option");
            li.dataset.code = item.code;
            var code = document.createElement("strong"); code.textContent = item.code;
            li.appendChild(code);
            li.appendChild(document.createTextNode(" " + item.term));
            if (item.matched) {
              // the synonym the registrar's words matched, beside the preferred term
              var matched = document.createElement("span"); matched.className = "muted";
              matched.textContent = " (" + item.matched + ")";
              li.appendChild(matched);
            }
            li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(items[i]); });
            list.appendChild(li);
          });
          if (data.note && items.length) {
            // the official term files are not installed: say what is searched instead (last, not an option)
            var note = document.createElement("li");
            note.setAttribute("role", "presentation"); note.className = "muted";
            note.textContent = data.note;
            list.appendChild(note);
          }
          list.hidden = items.length === 0;
          input.setAttribute("aria-expanded", items.length ? "true" : "false");
          highlight(items.length ? 0 : -1);
        });
    }, 120);
    // Leaving the picker without choosing (Esc, Tab, a click elsewhere): a morphology notation the server's
    // rule reads (data-notation: 8500/3, M-8500/3, 85003) fills histology and behavior; text longer than the
    // item holds (data-length) goes back to the value the field had, so no value the field cannot hold stays.
    var before = input.value;
    function settle() {
      var typed = input.value.trim();
      var capacity = parseInt(input.dataset.length || input.getAttribute("maxlength") || "0", 10);
      var box = termBox(input);
      var read = input.dataset.notation ? new RegExp(input.dataset.notation, "i").exec(typed) : null;
      if (read) {
        var behavior = form && form.querySelector("[name='" + (input.dataset.behaviorField || "behavior") + "']");
        var current = behavior ? behavior.value.trim() : "";
        if (read[2] && current && current !== read[2]) { return; }  // the live check names the conflict
        if (input.value === read[1] && (!read[2] || current === read[2])) { return; }
        input.value = read[1];
        if (read[2] && behavior) {
          behavior.value = read[2];
          var bt = termBox(behavior); if (bt) { bt.textContent = ""; }
        }
        if (box) { box.textContent = ""; }
        input.dispatchEvent(new Event("change", { bubbles: true }));
      } else if (capacity && typed.length > capacity) {
        input.value = before;
        if (box) { box.textContent = "'" + typed + "' is not a code here; the field keeps " + (before ? "'" + before + "'" : "its blank"); }
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    input.addEventListener("input", search);
    // F2 (see below) asks for the whole list, whatever the field holds
    input.addEventListener("picker:open", function () { search(true); });
    input.addEventListener("focus", function () { before = input.value; if (!input.value) { search(); } });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { close(); settle(); return; }
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if ((e.key === "Enter" || e.key === "Tab") && active >= 0 && input.value.trim()) {
        if (e.key === "Enter") { e.preventDefault(); }
        choose(items[active]);
      }
    });
    input.addEventListener("blur", function () { settle(); setTimeout(close, 150); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-picker]"), picker);
  // stage.js attaches pickers to the Stage section it redraws
  window.registryPicker = picker;

  // --- keyboard: Alt+1..9 moves to a section, F2 opens a coded field's code list ----------------
  // event.code (Digit1..) rather than event.key: with Alt held, key is a layout's symbol on some systems and
  // headless browsers, code is always the key pressed.
  function visible(el) { return el.getClientRects().length > 0 && !el.disabled; }
  document.addEventListener("keydown", function (e) {
    var digit = /^Digit([1-9])$/.exec(e.code || "");
    if (digit && e.altKey && !e.ctrlKey && !e.metaKey) {
      var link = document.querySelectorAll(".section-nav a")[parseInt(digit[1], 10) - 1];
      var section = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!section) { return; }
      e.preventDefault();
      var target = Array.prototype.find.call(section.querySelectorAll(
        "input:not([type=hidden]), select, textarea, summary:not([tabindex='-1']), button, a[href]"), visible);
      if (target) { target.focus(); } else { section.setAttribute("tabindex", "-1"); section.focus(); }
      section.scrollIntoView({ block: "start" });
      return;
    }
    if (e.key !== "F2" || !e.target || !e.target.closest) { return; }
    var field = e.target.closest(".field");
    var codes = field && field.querySelector("details.stage-codes");
    if (codes) {
      e.preventDefault();
      codes.open = true;
      codes.scrollIntoView({ block: "nearest" });
    } else if (e.target.dataset && e.target.dataset.picker) {
      e.preventDefault();
      e.target.dispatchEvent(new Event("picker:open"));
    }
  });

  // --- read-only copies (Stage section: "Grade Clinical, entered in Diagnosis") follow their field ------
  function mirror(e) {
    var name = e.target && e.target.name;
    if (!name) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-mirrors]"), function (copy) {
      if (copy.dataset.mirrors !== name) { return; }
      var value = e.target.value.trim();
      copy.textContent = value || "(blank)";
      var term = copy.parentNode.querySelector(".stage-term");
      if (!term) { return; }
      var described = "";
      Array.prototype.forEach.call(copy.parentNode.querySelectorAll("details.stage-codes dt"), function (dt) {
        if (dt.textContent === value && dt.nextElementSibling) { described = dt.nextElementSibling.textContent; }
      });
      term.textContent = described;
    });
  }
  if (form) {
    form.addEventListener("input", mirror);
    form.addEventListener("change", mirror);
  }

  // --- partial dates: 20230105 / 2023-1-5 / 2023-99-99 are shown as 2023-01-05, 2023 -----------
  function tidyDate(text) {
    var t = text.trim(), m;
    if ((m = /^(\d{4})(\d{2})?(\d{2})?$/.exec(t))) {
      return [m[1], m[2], m[3]].filter(Boolean).join("-");
    }
    if ((m = /^(\d{4})[-\/.](\d{1,2}|99|\?\?)(?:[-\/.](\d{1,2}|99|\?\?))?$/.exec(t))) {
      if (m[2] === "99" || m[2] === "??") { return m[1]; }
      var month = ("0" + m[2]).slice(-2);
      if (!m[3] || m[3] === "99" || m[3] === "??") { return m[1] + "-" + month; }
      return m[1] + "-" + month + "-" + ("0" + m[3]).slice(-2);
    }
    return t;
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-date]"), function (input) {
    input.addEventListener("change", function () { input.value = tidyDate(input.value); });
  });

  // --- character counters on text items (data-counter): "120 / 1000" under the box ---------------
  function counter(box) {
    var max = parseInt(box.getAttribute("maxlength") || "0", 10);
    var shown = document.createElement("span");
    shown.className = "char-counter";
    shown.id = "count-" + box.id;
    shown.setAttribute("aria-live", "polite");
    box.parentNode.insertBefore(shown, box.nextSibling);
    function update() {
      var used = box.value.length;
      shown.textContent = max ? used + " / " + max + " characters" : used + " characters";
      shown.classList.toggle("full", max > 0 && used >= max);
    }
    box.addEventListener("input", update);
    update();
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-counter]"), counter);

  // --- edits when a field is left ---------------------------------------------------------------
  if (!form || !form.dataset.checkUrl) { return; }
  function render(result) {
    Array.prototype.forEach.call(form.querySelectorAll(".edit-msgs"), function (box) { box.innerHTML = ""; });
    function add(field, cls, text) {
      var box = form.querySelector(".edit-msgs[data-for='" + field.split(".").pop() + "']");
      if (!box) { return; }
      var span = document.createElement("span");
      span.className = "msg " + cls;
      span.textContent = text;
      box.appendChild(span);
    }
    var invalid = result.invalid || {};
    Object.keys(invalid).forEach(function (field) { add(field, "invalid", invalid[field]); });
    var failures = result.failures || [];
    failures.forEach(function (f) { f.fields.forEach(function (field) { add(field, f.severity, f.edit_id + ": " + f.message); }); });
    var list = document.getElementById("edit-list");
    list.innerHTML = "";
    var errors = 0, warnings = 0;
    failures.forEach(function (f) {
      if (f.severity === "error") { errors++; } else { warnings++; }
      var li = document.createElement("li");
      li.className = f.severity;
      var a = document.createElement("a");
      a.href = "#" + f.fields[0];
      a.textContent = f.edit_id;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + f.message));
      list.appendChild(li);
    });
    Object.keys(invalid).forEach(function (field) {
      errors++;
      var li = document.createElement("li");
      li.className = "error";
      li.textContent = field + ": " + invalid[field];
      list.appendChild(li);
    });
    document.getElementById("edit-counts").textContent =
      errors + (errors === 1 ? " error, " : " errors, ") + warnings + (warnings === 1 ? " warning" : " warnings");
  }
  var pending = 0;
  // Once the form is sent, a late live check must not run: its answer would re-issue the session cookie
  // without the "Saved" message the save put there, and the next page would lose it.
  var submitting = false;
  form.addEventListener("submit", function () { submitting = true; });
  function check() {
    if (submitting) { return; }
    var ticket = ++pending;
    fetch(form.dataset.checkUrl, { method: "POST", body: new FormData(form), credentials: "same-origin",
                                   headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (result) { if (ticket === pending) { render(result); form.dataset.checked = String(ticket); } });
  }
  form.addEventListener("change", debounce(check, 80));

  // Alt+S saves (accesskey), Ctrl+Enter also saves.
  form.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
}());

// RX Summ--Surg Prim Site [1290]/[1291] pickers: an input marked data-surgery-picker="<URL of /codes/surgery>"
// (optionally data-surgery-item="1290" or "1291") offers the codes of the SEER site-specific surgery table for
// the site, histology and diagnosis year in its form, with the table's labels; typing filters them.
(function () {
  "use strict";

  function field(form, name) {
    var found = form && form.elements.namedItem(name);
    return found && found.value ? found.value.trim() : "";
  }

  function attach(input) {
    var form = input.form;
    var list = document.createElement("ul");
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.id = "surgery-picker-" + (input.id || input.name);
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.parentNode.insertBefore(list, input.nextSibling);
    var items = [], active = -1, ticket = 0;

    function close() { list.hidden = true; active = -1; input.setAttribute("aria-expanded", "false"); }
    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.classList.toggle("active", i === index);
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
    }
    function choose(item) {
      input.value = item.code;
      var term = document.getElementById("term-" + input.id);
      if (term) { term.textContent = item.term; }
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function show(found) {
      items = found;
      list.innerHTML = "";
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.code = item.code;
        var code = document.createElement("strong");
        code.textContent = item.code;
        li.appendChild(code);
        li.appendChild(document.createTextNode(" " + item.term));
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(items[i]); });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      highlight(items.length ? 0 : -1);
    }
    function search() {
      var site = field(form, "primary_site"), year = field(form, "date_of_diagnosis").slice(0, 4);
      if (!site || !/^[0-9]{4}$/.test(year)) { show([]); return; }
      var params = new URLSearchParams({ site: site, year: year, q: input.value.trim() });
      var histology = field(form, "histology");
      if (histology) { params.set("histology", histology); }
      if (input.dataset.surgeryItem) { params.set("item", input.dataset.surgeryItem); }
      var mine = ++ticket;
      fetch(input.dataset.surgeryPicker + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) { if (mine === ticket) { show(Array.isArray(found) ? found : []); } })
        .catch(function () { show([]); });
    }

    input.addEventListener("input", search);
    input.addEventListener("focus", search);
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if ((e.key === "Enter" || e.key === "Tab") && active >= 0) {
        if (e.key === "Enter") { e.preventDefault(); }
        choose(items[active]);
      } else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-surgery-picker]"), attach);
  window.registrySurgeryPicker = attach;
}());

// Abstract form, Stage section: when a field that chooses the schema changes (site, histology, behavior,
// diagnosis date, sex, a schema discriminator), redraw the section for the values in the form — the schema
// or its discriminator question, the schema's inputs with pickers fed by its own codes. Nothing is saved.
(function () {
  "use strict";
  var form = document.getElementById("abstract-form");
  var section = document.getElementById("stage-section");
  if (!form || !section || !section.dataset.url) { return; }
  var CHOOSERS = ["primary_site", "histology", "behavior", "date_of_diagnosis", "sex", "sex_assigned_at_birth",
                  "schema_discriminator_1", "schema_discriminator_2", "schema_discriminator_3"];
  var ticket = 0;
  var refreshed = 0;

  function choosers() {
    return CHOOSERS.map(function (name) {
      var field = form.elements.namedItem(name);
      return field ? field.value : "";
    }).join("|");
  }
  var drawnFor = choosers();

  // What the registrar typed in the section while the redraw was on its way wins over what was posted.
  function typed() {
    var values = {};
    Array.prototype.forEach.call(section.querySelectorAll("input[name], select[name]"), function (field) {
      var term = document.getElementById("term-" + field.id);
      values[field.name] = { value: field.value, term: term ? term.textContent : null };
    });
    return values;
  }

  function redraw() {
    var mine = ++ticket;
    drawnFor = choosers();
    var posted = new FormData(form);
    fetch(section.dataset.url, { method: "POST", body: posted, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("stage section: " + r.status); } return r.text(); })
      .then(function (html) {
        if (mine !== ticket) { return; }
        var focused = document.activeElement && section.contains(document.activeElement) ? document.activeElement.id : null;
        var before = typed();
        section.innerHTML = html;
        Object.keys(before).forEach(function (name) {
          var field = form.elements.namedItem(name);
          if (!field || field.value === before[name].value || posted.get(name) === before[name].value) { return; }
          field.value = before[name].value;
          var term = document.getElementById("term-" + field.id);
          if (term && before[name].term !== null) { term.textContent = before[name].term; }
        });
        var schema = document.getElementById("stage-schema");
        section.dataset.status = schema ? schema.dataset.status : "";
        Array.prototype.forEach.call(section.querySelectorAll("input[data-picker]"), function (input) {
          if (window.registryPicker) { window.registryPicker(input); }
        });
        if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
        section.dataset.refreshed = String(++refreshed);
        // the edit messages beside the redrawn fields come from the next check
        form.dispatchEvent(new Event("change", { bubbles: true }));
      })
      .catch(function (err) { section.dataset.refreshError = String(err); });
  }

  form.addEventListener("change", function (e) {
    var name = e.target && e.target.name;
    if (name && CHOOSERS.indexOf(name) >= 0 && choosers() !== drawnFor) { redraw(); }
  });
}());

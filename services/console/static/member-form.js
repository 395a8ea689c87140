// The member form's checks as the fields are typed (progressive enhancement): the groups
// service's refusals and likely-duplicate warnings shown at each field before sending.
// Without this script the same checks run when the form is sent.
(function () {
  "use strict";
  var form = document.querySelector("form[data-check]");
  if (!form || !window.fetch) { return; }
  var token = form.querySelector("input[name=csrf_token]");
  var timer = null;

  function note(field, kind, text) {
    var id = field.id + "-" + kind;
    var found = document.getElementById(id);
    if (!text) {
      if (found) { found.parentNode.removeChild(found); }
    } else {
      if (!found) {
        found = document.createElement("p");
        found.id = id;
        found.className = kind;
        field.parentNode.insertBefore(found, field);
      }
      found.textContent = text;
    }
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (text) { described.push(id); }
    if (described.length) { field.setAttribute("aria-describedby", described.join(" ")); }
    else { field.removeAttribute("aria-describedby"); }
  }

  function show(answer) {
    var fields = form.querySelectorAll("input[type=text]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      var problem = answer.problems[field.name] || "";
      var warning = answer.warnings[field.name];
      note(field, "error", problem);
      note(field, "warning", warning ? warning.message : "");
      if (problem) { field.setAttribute("aria-invalid", "true"); }
      else { field.removeAttribute("aria-invalid"); }
      field.parentNode.classList.toggle("invalid", !!problem);
    }
  }

  function check() {
    var data = new FormData(form);
    if (form.dataset.member) { data.set("member", form.dataset.member); }
    fetch(form.dataset.check, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { "X-CSRF-Token": token ? token.value : "" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer) { show(answer); }
    }).catch(function () { /* the checks run again when the form is sent */ });
  }

  form.addEventListener("change", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 150);
  });
})();

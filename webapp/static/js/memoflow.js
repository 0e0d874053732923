/* memoflow: the only script of the site (the CSP allows no inline script).
 *
 * - A button with data-confirm asks before it submits (sign, not approve, withdraw,
 *   deactivate, revoke).
 * - A POST form submits once: a double click or an impatient second click does nothing.
 *   The server refuses a second decision anyway (409); this just spares people the page.
 * The pages work without it; it only adds the safety catches.
 */
(function () {
  "use strict";

  function buttonsOf(form) {
    return form.querySelectorAll("button[type=submit], input[type=submit]");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") {
      return;
    }
    if (form.dataset.busy === "1") {
      event.preventDefault();
      return;
    }
    var submitter = event.submitter;
    var question = submitter ? submitter.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    form.dataset.busy = "1";
    // Disable only after the browser has read the form: a disabled submitter would be
    // left out of the data, and the server would not know which action was meant.
    window.setTimeout(function () {
      buttonsOf(form).forEach(function (button) {
        button.disabled = true;
        button.classList.add("is-busy");
      });
    }, 0);
  });

  // Coming back with the browser's Back button shows the page as it was left: make its
  // forms usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      delete form.dataset.busy;
      buttonsOf(form).forEach(function (button) {
        button.disabled = false;
        button.classList.remove("is-busy");
      });
    });
  });
})();

/* Small enhancements on every page; each page works without them.
 *
 * - The user menu (<details data-user-menu>) says whether it is open
 *   (aria-expanded on its summary) and closes with Escape, a click outside,
 *   or when keyboard focus moves out of it.
 * - On small screens the main navigation folds behind a "Menu" button.
 * - A form that came back with errors moves focus to its error summary (or to
 *   the first invalid field), so keyboard and screen-reader users land on it.
 * - A polled region marked data-hold-while-focused is not replaced while
 *   keyboard focus is inside it: its poll skips a turn. (An htmx trigger
 *   filter would say the same, but it is evaluated as a string, which the
 *   Content-Security-Policy forbids.)
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function userMenu(menu) {
    var summary = menu.querySelector("summary");
    if (!summary) { return; }

    function sync() { summary.setAttribute("aria-expanded", menu.open ? "true" : "false"); }
    function close(focusSummary) {
      if (!menu.open) { return; }
      menu.open = false;
      sync();
      if (focusSummary) { summary.focus(); }
    }

    menu.addEventListener("toggle", sync);
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        if (menu.open) { event.preventDefault(); }
        close(true);
      }
    });
    menu.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !menu.contains(event.relatedTarget)) { close(false); }
    });
    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target)) { close(false); }
    });
    sync();
  }

  function navToggle(button) {
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
    nav.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && nav.classList.contains("open")) {
        button.setAttribute("aria-expanded", "false");
        nav.classList.remove("open");
        button.focus();
      }
    });
  }

  function focusFirstError() {
    var target = document.querySelector("[data-error-summary]") ||
      document.querySelector("main form [aria-invalid='true']");
    if (target && !document.querySelector("[autofocus]:focus")) { target.focus(); }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-user-menu]"), userMenu);
    Array.prototype.forEach.call(document.querySelectorAll(".nav-toggle"), navToggle);
    focusFirstError();
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.hasAttribute("data-hold-while-focused") && source.contains(document.activeElement)) {
      event.preventDefault();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

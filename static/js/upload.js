/* Artifact uploads on the handover page: pick or drop a file, watch it go up.
 *
 * Each upload form (form[data-upload]) still works as a plain multipart POST
 * without JavaScript. With it, a chosen or dropped file is sent at once with
 * XMLHttpRequest so the page can show a progress bar per file; the server
 * answers with the artifact's table row, whose sha256 is then shown. A file
 * the server refuses (too big, empty, the revision was submitted meanwhile) or
 * that the network loses gets a message saying so; nothing is stored then.
 * What happens is also told to screen readers through the form's live region
 * (the bars themselves are visual).
 */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function formatSize(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
    return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
  }

  function placeRow(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var row = template.content.querySelector("tr");
    var body = document.getElementById("artifact-rows");
    if (!row || !body) { return row; }
    var empty = document.getElementById("artifact-empty");
    if (empty) { empty.remove(); }
    var kind = row.getAttribute("data-kind");
    var existing = kind !== "other" ? body.querySelector('tr[data-kind="' + kind + '"]') : null;
    if (existing) { existing.replaceWith(row); } else { body.appendChild(row); }
    if (window.htmx) { window.htmx.process(row); }
    return row;
  }

  // Why the server refused a file, when its answer is not a message of ours
  // (a proxy's error page, say).
  function refusal(status, form) {
    if (status === 413) {
      return "It is over the upload limit of " + (form.getAttribute("data-max-label") || "this server") + ".";
    }
    if (status === 409) { return "This revision was submitted meanwhile and can no longer change. Reload the page."; }
    if (status === 403) { return "You may not change this handover. Reload the page."; }
    if (status === 404) { return "This handover is no longer there for you. Reload the page."; }
    if (status >= 500) { return "Something went wrong on the server. Try again in a moment."; }
    return "The server refused it (HTTP " + status + ").";
  }

  function upload(form, file, status, live) {
    var line = el("div", { "class": "upload-file" });
    var label = el("div", { "class": "progress-label", "aria-hidden": "true" });
    label.appendChild(el("span", {}, file.name));
    var percent = el("span", {}, "0%");
    label.appendChild(percent);
    var bar = el("progress", { "class": "progress", max: "100", value: "0", "aria-label": "Uploading " + file.name });
    var note = el("div", { "class": "upload-note" }, "");
    line.appendChild(label);
    line.appendChild(bar);
    line.appendChild(note);
    status.appendChild(line);

    function say(text) { live.textContent = text; }

    function fail(message) {
      bar.classList.add("danger");
      bar.setAttribute("aria-label", "Upload of " + file.name + " failed");
      percent.textContent = "not stored";
      note.className = "upload-note failed";
      note.setAttribute("role", "alert");
      note.textContent = file.name + " was not stored. " + message;
    }

    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (limit && file.size > limit) {
      // No need to send gigabytes to hear "too big".
      fail("It is " + formatSize(file.size) + ", over the upload limit of " + form.getAttribute("data-max-label") + ".");
      return;
    }

    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("kind", form.querySelector("[name=kind]").value);
    data.append("file", file, file.name);

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      var value = Math.round((event.loaded / event.total) * 100);
      bar.value = value;
      percent.textContent = value + "% of " + formatSize(event.total);
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        bar.classList.add("success");
        bar.setAttribute("aria-label", file.name + " uploaded");
        percent.textContent = "stored";
        var row = placeRow(xhr.responseText);
        var sha = row ? row.getAttribute("data-sha256") : "";
        note.className = "upload-note stored";
        note.textContent = "Stored " + file.name + " · sha256 ";
        note.appendChild(el("code", { "class": "sha256" }, sha));
        say("Stored " + file.name + ".");
        return;
      }
      var type = xhr.getResponseHeader("Content-Type") || "";
      var text = type.indexOf("text/plain") === 0 ? xhr.responseText.trim() : "";
      fail(text && text.length <= 500 ? text : refusal(xhr.status, form));
    });
    xhr.addEventListener("error", function () {
      fail("The connection to the server was lost. Check your network and try again.");
    });
    xhr.addEventListener("abort", function () { fail("The upload was cancelled."); });

    say("Uploading " + file.name + ", " + formatSize(file.size) + ".");
    xhr.send(data);
  }

  function send(form, files) {
    var status = form.querySelector("[data-status]");
    var live = form.querySelector("[data-live]") || status;
    var list = Array.prototype.slice.call(files || []);
    if (!list.length) { return; }
    if (form.getAttribute("data-kind") !== "other") { list = list.slice(0, 1); }
    status.textContent = "";
    list.forEach(function (file) { upload(form, file, status, live); });
  }

  function enhance(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-dropzone]");
    var depth = 0;  // dragenter/dragleave also fire for the zone's children
    input.addEventListener("change", function () {
      send(form, input.files);
      input.value = "";
    });
    // A chosen file uploads at once; the button then only opens the picker
    // (so the browser's "please select a file" check is not needed).
    form.noValidate = true;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files && input.files.length) { send(form, input.files); } else { input.click(); }
    });
    zone.addEventListener("dragenter", function (event) {
      event.preventDefault();
      depth += 1;
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      if (event.dataTransfer) { event.dataTransfer.dropEffect = "copy"; }
    });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (!depth) { zone.classList.remove("dragging"); }
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      if (event.dataTransfer) { send(form, event.dataTransfer.files); }
    });
  }

  function init() {
    var forms = document.querySelectorAll("form[data-upload]");
    if (!forms.length || !window.FormData || !window.XMLHttpRequest) { return; }
    document.documentElement.classList.add("js-upload");
    Array.prototype.forEach.call(forms, enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

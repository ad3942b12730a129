/* Artifact uploads on the handover page: pick or drop a file, watch it go up.
 *
 * Each upload form (form[data-upload]) still works as a plain multipart POST
 * without JavaScript. With it, a chosen or dropped file is sent at once with
 * XMLHttpRequest so the page can show a progress bar per file; the server
 * answers with the artifact's table row, whose sha256 is then shown.
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

  function upload(form, file, status) {
    var line = el("div", { "class": "upload-file" });
    var label = el("div", { "class": "progress-label" });
    label.appendChild(el("span", {}, file.name));
    var percent = el("span", {}, "0%");
    label.appendChild(percent);
    var bar = el("progress", { "class": "progress", max: "100", value: "0", "aria-label": "Uploading " + file.name });
    var note = el("div", {}, "");
    line.appendChild(label);
    line.appendChild(bar);
    line.appendChild(note);
    status.appendChild(line);

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
        percent.textContent = "stored";
        var row = placeRow(xhr.responseText);
        var sha = row ? row.getAttribute("data-sha256") : "";
        note.className = "stored";
        note.textContent = "Stored " + file.name + " · sha256 ";
        note.appendChild(el("code", { "class": "sha256" }, sha));
      } else {
        fail(xhr.responseText || ("The upload was refused (HTTP " + xhr.status + ")."));
      }
    });
    xhr.addEventListener("error", function () { fail("The upload failed: the connection was lost. Try again."); });
    xhr.addEventListener("abort", function () { fail("The upload was cancelled."); });

    function fail(message) {
      bar.classList.add("danger");
      percent.textContent = "failed";
      note.className = "failed";
      note.setAttribute("role", "alert");
      note.textContent = message.length > 500 ? "The upload failed." : message;
    }

    xhr.send(data);
  }

  function send(form, files) {
    var status = form.querySelector("[data-status]");
    var list = Array.prototype.slice.call(files || []);
    if (!list.length) { return; }
    if (form.getAttribute("data-kind") !== "other") { list = list.slice(0, 1); }
    status.textContent = "";
    list.forEach(function (file) { upload(form, file, status); });
  }

  function enhance(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-dropzone]");
    input.addEventListener("change", function () {
      send(form, input.files);
      input.value = "";
    });
    // A chosen file uploads at once; the button then only opens the picker.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files && input.files.length) { send(form, input.files); } else { input.click(); }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
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

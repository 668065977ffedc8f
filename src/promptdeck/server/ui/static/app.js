// promptdeck UI: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  var VAR = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

  // Keep the list of {{ variables }} next to an editor up to date while typing.
  function liveVariables(editor) {
    var list = document.getElementById(editor.getAttribute("data-vars"));
    if (!list) return;
    function update() {
      var seen = [], m;
      VAR.lastIndex = 0;
      while ((m = VAR.exec(editor.value)) !== null) {
        if (seen.indexOf(m[1]) < 0) seen.push(m[1]);
      }
      list.textContent = "";
      if (!seen.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = "none";
        list.appendChild(none);
      }
      seen.forEach(function (name) {
        var li = document.createElement("li"), code = document.createElement("code");
        code.textContent = "{{ " + name + " }}";
        li.appendChild(code);
        list.appendChild(li);
      });
    }
    editor.addEventListener("input", update);
  }

  // A running evaluation's page reloads itself every few seconds (not a meta refresh: a
  // person can stop it, WCAG 2.2.1); without this file the page has a "Reload now" link.
  function reloader(hint) {
    var seconds = parseFloat(hint.getAttribute("data-reload")) || 2;
    var url = hint.getAttribute("data-reload-url") || window.location.href;
    var stop = hint.parentNode.querySelector("[data-reload-stop]");
    var timer = window.setTimeout(function () { window.location.replace(url); }, seconds * 1000);
    if (!stop) return;
    stop.hidden = false;
    stop.addEventListener("click", function () {
      window.clearTimeout(timer);
      hint.textContent = "reloading stopped";
      stop.hidden = true;
    });
  }

  // Ctrl/Cmd+Enter in an editor submits its form with the first (primary) button.
  function submitShortcut(editor) {
    editor.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && editor.form) {
        event.preventDefault();
        var primary = editor.form.querySelector("button.primary");
        if (editor.form.requestSubmit) editor.form.requestSubmit(primary || undefined);
        else if (primary) primary.click();
      }
    });
  }

  // A form larger than the server accepts would be refused (413) and its text left behind:
  // say so here instead, before sending, and keep what was typed.
  var maxBody = parseInt(document.body.getAttribute("data-max-body") || "0", 10);
  function tooLarge(form) {
    if (!maxBody || !window.FormData || !window.URLSearchParams) return false;
    var size = new URLSearchParams(new FormData(form)).toString().length;
    var note = form.querySelector(".size-error");
    if (size <= maxBody) {
      if (note) note.remove();
      return false;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "error size-error";
      note.setAttribute("role", "alert");
      form.insertBefore(note, form.firstChild);
    }
    note.textContent = "This is too large to save: the server accepts at most " +
      maxBody.toLocaleString("en") + " bytes per form, and this one has " +
      size.toLocaleString("en") + ". Nothing was sent; your text is still here.";
    return true;
  }

  // Submitting a form twice by a double click would save twice: disable its buttons.
  function oneSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (tooLarge(form)) {
        event.preventDefault();
        return;
      }
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  }

  // A version's preview follows the typing: the form is posted (rendered on the server, as
  // a submit would) and the preview part of the answer replaces the one on the page.
  function livePreview(form) {
    var out = document.getElementById(form.getAttribute("data-preview"));
    if (!out || !window.fetch || !window.DOMParser) return;
    var timer = null, sent = 0;
    function update() {
      var mine = ++sent;
      fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== sent) return;  // a later keystroke's answer wins
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(out.id);
          if (fresh) out.innerHTML = fresh.innerHTML;
        })
        .catch(function () {});
    }
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 250);
    });
  }

  // The playground: Run streams each pane's answer (Server-Sent Events over fetch, the
  // form's own fields and CSRF token); the other buttons submit the form as they would.
  function disableOnSubmit(form) {
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  }

  function problemText(problem) {
    var text = problem.detail || problem.title || "The run was refused.";
    (problem.errors || []).forEach(function (e) { text += "\n" + e.path + ": " + e.message; });
    return text;
  }

  function runPane(form, pane) {
    var out = pane.querySelector(".answer"), meta = pane.querySelector(".run-meta");
    var err = pane.querySelector(".run-error"), draft = pane.getAttribute("data-target") === "draft";
    out.textContent = ""; meta.textContent = ""; err.textContent = ""; err.hidden = true;
    pane.setAttribute("aria-busy", "true");
    function fail(text) { err.textContent = text; err.hidden = false; }
    function handle(block) {
      var kind = "", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event: ") === 0) kind = line.slice(7);
        else if (line.indexOf("data: ") === 0) data += line.slice(6);
      });
      if (!data) return;
      var value = JSON.parse(data);
      if (kind === "delta") {
        out.textContent += value.text || "";
      } else if (kind === "done") {
        var text = value.output;
        (value.tool_calls || []).forEach(function (c) { text += "\n→ " + c.name + "(" + c.arguments + ")"; });
        out.textContent = text;
        var parts = [Math.round(value.latency_ms) + " ms"];
        if (value.usage && value.usage.total_tokens != null) parts.push(value.usage.total_tokens + " tokens");
        if (value.cost != null) parts.push("cost " + value.cost.toFixed(6));
        meta.textContent = parts.join(" · ");
        if (draft) document.getElementById("play-output").value = value.output;
      } else if (kind === "error") {
        fail(problemText(value));
      }
    }
    var body = new FormData(form);
    body.set("target", pane.getAttribute("data-target"));
    return fetch(form.getAttribute("data-stream"), {
      method: "POST", body: new URLSearchParams(body), headers: { "Accept": "text/event-stream" }
    }).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) {
          var problem;
          try { problem = JSON.parse(t); } catch (e) { problem = { detail: "The run was refused (" + r.status + ")." }; }
          fail(problemText(problem));
        });
      }
      var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (step) {
          if (step.done) return;
          buffer += decoder.decode(step.value, { stream: true });
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      fail("The run could not be completed: the connection to the server was lost.");
    }).then(function () { pane.removeAttribute("aria-busy"); });
  }

  function playground(form) {
    var streams = window.fetch && window.TextDecoder && window.ReadableStream;
    form.addEventListener("submit", function (event) {
      var by = event.submitter;
      if (tooLarge(form)) { event.preventDefault(); return; }
      if (!streams || !by || by.value !== "run") { disableOnSubmit(form); return; }
      event.preventDefault();
      by.disabled = true;
      var panes = Array.prototype.slice.call(form.querySelectorAll(".pane"));
      Promise.all(panes.map(function (pane) { return runPane(form, pane); }))
        .then(function () { by.disabled = false; });
    });
  }

  document.querySelectorAll("form[data-stream]").forEach(playground);
  document.querySelectorAll("form[data-preview]").forEach(livePreview);
  document.querySelectorAll("textarea[data-vars]").forEach(liveVariables);
  document.querySelectorAll("textarea.editor").forEach(submitShortcut);
  document.querySelectorAll("form[method=post]:not([data-preview]):not([data-stream])").forEach(oneSubmit);
  document.querySelectorAll("[data-reload]").forEach(reloader);
})();

// The YAML editor of /configurations/<name>/edit: CodeMirror 5 (static/vendor/codemirror/) over the page's
// textarea, which stays the form field and keeps driving the live validation (its hx-post).
//
// - Line numbers and YAML highlighting.
// - The live validation's issues (the #validation-live panel, re-rendered by htmx) marked on their lines:
//   every element in it with data-line (issue_list.html, validation.html) becomes a lint annotation.
// - data-line on the textarea (?line=N) opens the editor at that line; a click on a link to a line of
//   this editor (a.issue-location, ?line=N) moves there instead of reloading the page and losing the draft.
//
// Without JavaScript, or if CodeMirror did not load, the textarea is the editor.
(function () {
  "use strict";

  var textarea = document.querySelector("textarea.yaml-editor");
  if (!textarea || !window.CodeMirror) return;

  var panel = document.querySelector(".editor-validation");
  var annotations = [];
  var label = document.querySelector('label[for="' + textarea.id + '"]');

  var cm = window.CodeMirror.fromTextArea(textarea, {
    mode: "yaml",
    lineNumbers: true,
    indentUnit: 2,
    tabSize: 2,
    indentWithTabs: false,
    gutters: ["CodeMirror-lint-markers", "CodeMirror-linenumbers"],
    lint: { getAnnotations: function () { return annotations; }, lintOnChange: false, highlightLines: true },
    screenReaderLabel: label ? label.textContent : "YAML",
    extraKeys: {
      // YAML refuses tabs: indent with spaces.
      Tab: function (editor) {
        if (editor.somethingSelected()) editor.indentSelection("add");
        else editor.replaceSelection(" ".repeat(editor.getOption("indentUnit")), "end", "+input");
      },
      "Shift-Tab": function (editor) { editor.indentSelection("subtract"); },
      // Tab indents, so Escape leaves the editor for the next field (the version's message).
      Esc: function () {
        var next = textarea.form && textarea.form.elements.namedItem("message");
        if (next) next.focus();
      },
    },
  });

  // The textarea is what htmx posts and watches ("input changed delay:500ms"): keep it current and tell it.
  cm.on("changes", function () {
    cm.save();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  });

  function readAnnotations() {
    var found = [];
    var live = document.getElementById("validation-live");
    if (!live) return found;
    live.querySelectorAll("[data-line]").forEach(function (element) {
      var line = parseInt(element.getAttribute("data-line"), 10) - 1;
      if (!(line >= 0)) return;
      // YAML places an error at the end of the text on the line after the last one.
      line = Math.min(line, cm.lineCount() - 1);
      var text = cm.getLine(line);
      var start = text.length - text.replace(/^\s+/, "").length;
      found.push({
        from: window.CodeMirror.Pos(line, start),
        to: window.CodeMirror.Pos(line, text.length),
        severity: element.getAttribute("data-severity") || "error",
        message: element.getAttribute("data-message") || element.textContent.trim(),
      });
    });
    return found;
  }

  function showIssues() {
    annotations = readAnnotations();
    cm.performLint();
  }

  // htmx swaps the panel's #validation-live (outerHTML) with each answer; a MutationObserver sees that the
  // same way under htmx 2 and 4, whose event names differ.
  if (panel && window.MutationObserver) {
    new MutationObserver(showIssues).observe(panel, { childList: true, subtree: true });
  }
  showIssues();

  function jumpTo(number, focus) {
    var line = Math.min(Math.max(number, 1), cm.lineCount()) - 1;
    if (focus) cm.focus();
    cm.setCursor({ line: line, ch: 0 });
    cm.scrollIntoView({ line: line, ch: 0 }, Math.round(cm.getScrollInfo().clientHeight / 3));
    var handle = cm.addLineClass(line, "background", "editor-jump-target");
    window.setTimeout(function () { cm.removeLineClass(handle, "background", "editor-jump-target"); }, 2000);
    // The line is in view inside the editor; bring the editor's line into the window too (on a phone the
    // validation panel is below the editor).
    var box = cm.charCoords({ line: line, ch: 0 }, "window");
    if (box.top < 0 || box.bottom > window.innerHeight) {
      window.scrollBy(0, box.top - Math.round(window.innerHeight / 3));
    }
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    var link = event.target.closest("a.issue-location");
    if (!link) return;
    var url = new URL(link.href, window.location.href);
    var line = parseInt(url.searchParams.get("line"), 10);
    if (url.pathname !== window.location.pathname || !(line > 0)) return;
    event.preventDefault();
    jumpTo(line, true);
  });

  var asked = parseInt(textarea.getAttribute("data-line"), 10);
  if (asked > 0) jumpTo(asked, false);
})();

// The test-run form (/configurations/<name>/test-run): tools over its entity checkboxes, which can be 60.
//
// - A search box hides the entities whose name does not contain what is typed (Enter does not submit).
// - "Select all" / "Select none" tick or untick the entities in view only.
// - "Runnable only" (shown when validation says some cannot run) hides those (label[data-blocked]).
// - The count of entities shown and ticked, beside the Start button that stays in view (.form-footer).
//
// Without JavaScript the tools stay hidden and the checkboxes are the form, as they always were.
(function () {
  "use strict";

  var picker = document.querySelector("[data-entity-picker]");
  if (!picker) return;
  var tools = picker.querySelector(".entity-tools");
  var search = picker.querySelector(".entity-search");
  var runnableOnly = picker.querySelector(".entity-runnable-only");
  var count = picker.querySelector(".entity-count");
  var selected = document.querySelector(".entity-selected");
  var choices = Array.prototype.slice.call(picker.querySelectorAll(".entity-choice"));
  if (!choices.length) return;

  function box(label) { return label.querySelector("input[type=checkbox]"); }

  function showSelected() {
    var ticked = choices.filter(function (label) { return box(label).checked; }).length;
    if (selected) {
      selected.textContent = ticked ? ticked + " of " + choices.length + " entities ticked"
                                    : "No entity ticked: every entity runs";
    }
  }

  function filter() {
    var words = search.value.trim().toLowerCase();
    var hideBlocked = runnableOnly && runnableOnly.checked;
    var shown = 0;
    choices.forEach(function (label) {
      var visible = label.getAttribute("data-name").toLowerCase().indexOf(words) !== -1 &&
        !(hideBlocked && label.hasAttribute("data-blocked"));
      label.hidden = !visible;
      if (visible) shown += 1;
    });
    count.textContent = shown === choices.length ? choices.length + " entities" : shown + " of " + choices.length + " shown";
  }

  function tickShown(checked) {
    choices.forEach(function (label) { if (!label.hidden) box(label).checked = checked; });
    showSelected();
  }

  search.addEventListener("input", filter);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();
  });
  if (runnableOnly) runnableOnly.addEventListener("change", filter);
  tools.addEventListener("click", function (event) {
    var button = event.target.closest("[data-select]");
    if (button) tickShown(button.getAttribute("data-select") === "all");
  });
  picker.addEventListener("change", function (event) {
    if (event.target.name === "entities") showSelected();
  });

  tools.hidden = false;
  filter();
  showSelected();
})();

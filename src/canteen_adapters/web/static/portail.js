// A little help when JavaScript runs: "Tout cocher" / "Tout décocher" tick the grid's boxes
// without a round trip (without JavaScript the same buttons ask the server to do it).
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-tick]");
  if (!button) { return; }
  var form = button.form;
  if (!form) { return; }
  event.preventDefault();
  var value = button.getAttribute("data-tick") === "on";
  form.querySelectorAll("input[type=checkbox][name=day]:not(:disabled)").forEach(function (box) {
    box.checked = value;
  });
});

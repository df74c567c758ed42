// The print button of the printable pages (回答書, 返戻通知, 日程表): a script file of
// its own because the pages' Content-Security-Policy allows no inline script.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
